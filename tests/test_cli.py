"""The ``reviewer`` command line, driven through click's CliRunner.

Every test runs in its own temporary folder with its own database. Expected numbers are computed
from the files in ``sample_reports/``, not copied from an earlier run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reviewer.cli import cli
from reviewer.core.model import Status
from reviewer.core.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_reports"
SAMPLE_TXT = sorted(SAMPLE.glob("*.txt"))
DEMO = SAMPLE / "demo_annotations.jsonl"
DEMO_LINES = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line]
N_REPORTS = len(SAMPLE_TXT)
N_SPANS = sum(len(line["spans"]) for line in DEMO_LINES)
LABEL_COUNTS = Counter(span["label"] for line in DEMO_LINES for span in line["spans"])
REVIEWER_COUNTS = Counter(line["_annotator_id"] for line in DEMO_LINES for _ in line["spans"])
ANNOTATED_IDS = {line["id"] for line in DEMO_LINES}

SUMMARY = re.compile(
    r"^Imported (?P<reports>\d+) reports? and (?P<spans>\d+) spans? "
    r"from (?P<files>\d+) files?(?: \((?P<formats>[^)]*)\))?; "
    r"(?P<present>\d+) already present, (?P<duplicates>\d+) duplicates? of other reports, "
    r"(?P<errors>\d+) errors?"
    r"(?:, (?P<spans_present>\d+) spans already present)?"
    r"(?:, (?P<skipped>\d+) invalid records? skipped)?"
    r"(?:; (?P<ignored>\d+) other files? not imported \((?P<ignored_kinds>[^)]*)\))?\.$"
)


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path (the default database is relative to it) with no reviewer env vars."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWER_DB", raising=False)
    monkeypatch.delenv("REVIEWER_NAME", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "ws" / "reviewer.db"


@pytest.fixture
def sample_db(db: Path) -> Path:
    """A database holding sample_reports/ (reports and demo annotations)."""
    result = run(db, "import", str(SAMPLE))
    assert result.exit_code == 0, result.output
    return db


def invoke(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=True)
    # Never a traceback, whatever happened.
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def run(db: Path, *args: str, reviewer: str = "tester") -> Result:
    return invoke(["--db", str(db), "--reviewer", reviewer, *args])


def ok(db: Path, *args: str, reviewer: str = "tester") -> Result:
    result = run(db, *args, reviewer=reviewer)
    assert result.exit_code == 0, result.output
    return result


def summary(result: Result) -> dict[str, int | str]:
    lines = result.stdout.strip().splitlines()
    assert lines, result.output
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    out: dict[str, int | str] = {}
    for key, value in match.groupdict().items():
        if key in ("formats", "ignored_kinds"):
            out[key] = value or ""
        else:
            out[key] = int(value) if value is not None else 0
    return out


def assert_one_line_error(result: Result, *words: str, stdout: str = "") -> str:
    """A failed command: non-zero exit, exactly one line on stderr, nothing on stdout (or what
    ``stdout`` says)."""
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert result.stdout == stdout
    return lines[0]


def stats(db: Path) -> dict:
    return json.loads(ok(db, "stats", "--json").stdout)


def export_lines(db: Path, *args: str) -> list[dict]:
    out = ok(db, "export", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def write_jsonl(path: Path, *records: dict | str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


COMMAND_PATHS = [path for path, _ in all_commands(cli)]


# --- the sample data itself -------------------------------------------------------------------


def test_sample_data_is_what_these_tests_assume() -> None:
    # The demo annotations refer to sample reports with exactly the same text, by two reviewers.
    assert N_REPORTS >= 12
    by_id = {p.stem: p.read_text(encoding="utf-8") for p in SAMPLE_TXT}
    for line in DEMO_LINES:
        assert by_id[line["id"]] == line["text"]
    assert set(REVIEWER_COUNTS) == {"alice", "bob"}
    assert set(LABEL_COUNTS) == {"drug", "event", "test", "diagnosis"}


# --- help -------------------------------------------------------------------------------------


def test_top_level_help_lists_every_command() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "--db" in result.stdout and "--reviewer" in result.stdout
    for name in cli.commands:
        assert re.search(rf"^\s+{re.escape(name)}\s", result.stdout, re.M), name


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = invoke([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage:")
    assert " ".join(path) in result.stdout.splitlines()[0]
    command = cli
    for name in path:
        command = command.commands[name]
    first_line = command.help.strip().splitlines()[0]
    assert first_line in result.stdout


def test_every_command_and_option_has_a_help_text() -> None:
    missing = []
    for path, command in all_commands(cli):
        if not (command.help or "").strip():
            missing.append(" ".join(path))
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert not missing, f"no help text: {missing}"
    assert {"import", "export", "stats"} <= set(cli.commands)


def test_help_needs_no_database(tmp_path: Path) -> None:
    for path in COMMAND_PATHS:
        invoke(["--db", str(tmp_path / "never.db"), *path, "--help"])
    assert not (tmp_path / "never.db").exists()
    assert not (tmp_path / "annotations").exists()


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert re.match(r"reviewer, version \d+\.\d+", result.stdout)


# --- import: the sample reports ---------------------------------------------------------------


def test_import_sample_reports_summary(db: Path) -> None:
    result = ok(db, "import", str(SAMPLE))
    numbers = summary(result)
    assert numbers["reports"] == N_REPORTS == 13
    assert numbers["spans"] == N_SPANS == 435
    assert numbers["files"] == N_REPORTS + 1
    assert numbers["formats"] == f"1 jsonl, {N_REPORTS} text"
    assert numbers["duplicates"] == 0
    assert numbers["errors"] == 0
    assert numbers["skipped"] == 0
    assert result.stderr == ""
    assert db.is_file()


def test_first_import_into_an_empty_database_reports_nothing_already_present(db: Path) -> None:
    # "reports already present" are those stored before this import began (ImportSummary
    # docs); the JSONL's reports were added by the same import from the .txt files.
    numbers = summary(ok(db, "import", str(SAMPLE)))
    assert numbers["present"] == 0
    assert numbers["spans_present"] == 0


def test_import_sample_reports_stores_whole_files_with_header_metadata(sample_db: Path) -> None:
    reports = {r["id"]: r for r in export_lines(sample_db)}
    assert sorted(reports) == [p.stem for p in SAMPLE_TXT]
    for path in SAMPLE_TXT:
        report = reports[path.stem]
        assert report["text"] == path.read_text(encoding="utf-8")  # header not cut out
        first = path.read_text(encoding="utf-8").splitlines()
        assert report["meta"]["title"] == first[0].removeprefix("Title: ")
        assert report["meta"]["doi"] == first[5].removeprefix("DOI: ")
        assert report["meta"]["journal"] == first[3].removeprefix("Journal: ")
        assert len(report["meta"]["authors"]) >= 2
        expected_spans = sum(len(line["spans"]) for line in DEMO_LINES if line["id"] == path.stem)
        assert len(report["spans"]) == expected_spans


def test_reimport_changes_nothing(sample_db: Path) -> None:
    before_export = ok(sample_db, "export").stdout
    before_stats = stats(sample_db)
    numbers = summary(ok(sample_db, "import", str(SAMPLE)))
    assert numbers["reports"] == 0
    assert numbers["spans"] == 0
    assert numbers["present"] == N_REPORTS
    assert numbers["spans_present"] == N_SPANS
    assert numbers["errors"] == 0
    assert ok(sample_db, "export").stdout == before_export
    assert stats(sample_db) == before_stats


def test_reimport_of_one_file_changes_nothing(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "r1", "text": "aspirin rash", "spans": [{"start": 0, "end": 7, "label": "drug"}]},
    )
    first = summary(ok(db, "import", str(path)))
    second = summary(ok(db, "import", str(path)))
    assert (first["reports"], first["spans"]) == (1, 1)
    assert (second["reports"], second["spans"], second["present"]) == (0, 0, 1)
    assert stats(db)["spans"] == 1


def test_import_folder_ids_are_paths_relative_to_the_folder(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "top.txt").write_text("Top report\n", encoding="utf-8")
    (folder / "sub" / "deep.txt").write_text("Deep report\n", encoding="utf-8")
    (folder / "notes.md").write_text("not a report\n", encoding="utf-8")
    numbers = summary(ok(db, "import", str(folder)))
    assert numbers["reports"] == 2
    assert (numbers["ignored"], numbers["ignored_kinds"]) == (1, "1 .md")  # said, not silent
    assert sorted(r["id"] for r in export_lines(db)) == ["sub/deep", "top"]


def test_import_single_file_id_is_its_name_without_extension(db: Path) -> None:
    ok(db, "import", str(SAMPLE / "case05.txt"))
    assert [r["id"] for r in export_lines(db)] == ["case05"]


def test_import_text_file_with_crlf_is_stored_with_lf(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(
        b"\xef\xbb\xbfTitle: A CRLF case\r\nDOI: 10.5555/x.1\r\n\r\nFever\ron day 2\x0c\r\n"
    )
    ok(db, "import", str(path))
    (report,) = export_lines(db)
    assert report["text"] == "Title: A CRLF case\nDOI: 10.5555/x.1\n\nFever\non day 2\u240c\n"
    assert report["meta"]["title"] == "A CRLF case"
    assert report["meta"]["doi"] == "10.5555/x.1"


def test_import_jsonl_with_crlf_text_remaps_span_offsets(db: Path, tmp_path: Path) -> None:
    text = "\ufeffAspirin\r\n\r\nrash 💊 and fe\u0301ver\u2028end"
    spans = []
    for word, label in (("Aspirin", "drug"), ("rash", "event"), ("fe\u0301ver", "event")):
        start = text.index(word)
        spans.append({"start": start, "end": start + len(word), "label": label, "text": word})
    path = write_jsonl(tmp_path / "a.jsonl", {"id": "r1", "text": text, "spans": spans})
    ok(db, "import", str(path))
    (report,) = export_lines(db)
    assert "\r" not in report["text"]
    assert [s["text"] for s in report["spans"]] == ["Aspirin", "rash", "fe\u0301ver"]
    for span in report["spans"]:
        assert report["text"][span["start"] : span["end"]] == span["text"]


# --- import: JSONL reviewers ------------------------------------------------------------------


def annotated_line(**extra) -> dict:
    return {
        "id": "r1",
        "text": "Aspirin caused a rash.",
        "spans": [
            {"start": 0, "end": 7, "label": "drug"},
            {"start": 17, "end": 21, "label": "event"},
        ],
        **extra,
    }


def test_import_jsonl_spans_belong_to_annotator_id(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line(_annotator_id="alice"))
    ok(db, "import", str(path))
    spans = export_lines(db)[0]["spans"]
    assert [(s["reviewer"], s["text"]) for s in spans] == [("alice", "Aspirin"), ("alice", "rash")]
    assert stats(db)["reviewers"] == {"alice": 2}


def test_import_reviewer_option_overrides_annotator_id(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line(_annotator_id="alice"))
    ok(db, "import", "--reviewer", "carol", str(path))
    assert {s["reviewer"] for s in export_lines(db)[0]["spans"]} == {"carol"}
    assert stats(db)["reviewers"] == {"carol": 2}


def test_import_spans_without_annotator_belong_to_the_global_reviewer(
    db: Path, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line())
    ok(db, "import", str(path), reviewer="dana")
    assert stats(db)["reviewers"] == {"dana": 2}


def test_import_sample_annotations_by_two_reviewers(sample_db: Path) -> None:
    data = stats(sample_db)
    assert data["reviewers"] == dict(REVIEWER_COUNTS)


def test_import_label_is_matched_without_regard_to_case(db: Path, tmp_path: Path) -> None:
    line = {"id": "r1", "text": "Aspirin", "spans": [{"start": 0, "end": 7, "label": "DRUG"}]}
    ok(db, "import", str(write_jsonl(tmp_path / "a.jsonl", line)))
    assert export_lines(db)[0]["spans"][0]["label"] == "drug"


def test_two_identical_spans_in_one_line_are_both_kept(db: Path, tmp_path: Path) -> None:
    span = {"start": 0, "end": 7, "label": "drug"}
    path = write_jsonl(tmp_path / "a.jsonl", {"id": "r1", "text": "Aspirin", "spans": [span, span]})
    assert summary(ok(db, "import", str(path)))["spans"] == 2
    spans = export_lines(db)[0]["spans"]
    assert len(spans) == 2
    assert spans[0]["id"] != spans[1]["id"]
    assert {(s["start"], s["end"], s["label"]) for s in spans} == {(0, 7, "drug")}
    # ... and importing the same file again still leaves two.
    ok(db, "import", str(path))
    assert stats(db)["spans"] == 2


def test_identical_text_under_another_id_is_a_duplicate(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "first", "text": "The same report text."},
        {"id": "second", "text": "The same report text."},
        {"id": "third", "text": "Another text."},
    )
    numbers = summary(ok(db, "import", str(path)))
    assert numbers["reports"] == 3
    assert numbers["duplicates"] == 1
    data = stats(db)
    assert data["reports"] == 3
    assert data["duplicates"] == 1


def test_duplicate_across_imports_is_counted(db: Path, tmp_path: Path) -> None:
    ok(db, "import", str(SAMPLE / "case01.txt"))
    copy = tmp_path / "copy_of_case01.txt"
    copy.write_bytes((SAMPLE / "case01.txt").read_bytes())
    numbers = summary(ok(db, "import", str(copy)))
    assert (numbers["reports"], numbers["duplicates"]) == (1, 1)
    assert stats(db)["duplicates"] == 1


def test_labels_toml_in_the_workspace_adds_labels(db: Path, tmp_path: Path) -> None:
    db.parent.mkdir(parents=True)
    (db.parent / "labels.toml").write_text(
        '[labels.dose]\nkey = "5"\ncolor = "#d08770"\n', encoding="utf-8"
    )
    line = {
        "id": "r1",
        "text": "Aspirin 100 mg",
        "spans": [{"start": 8, "end": 14, "label": "dose"}],
    }
    ok(db, "import", str(write_jsonl(tmp_path / "a.jsonl", line)))
    assert stats(db)["labels"] == {"dose": 1}
    assert len(export_lines(db, "--label", "dose")[0]["spans"]) == 1


def test_bad_labels_toml_is_one_line_naming_the_file(db: Path) -> None:
    db.parent.mkdir(parents=True)
    (db.parent / "labels.toml").write_text('[labels.dose]\nkey = "1"\ncolor = "#d08770"\n')
    result = run(db, "import", str(SAMPLE / "case01.txt"))
    assert_one_line_error(result, str(db.parent / "labels.toml"), "'1'")


# --- import: --if-empty -----------------------------------------------------------------------


def test_if_empty_imports_into_an_empty_database(db: Path) -> None:
    numbers = summary(ok(db, "import", "--if-empty", str(SAMPLE)))
    assert numbers["reports"] == N_REPORTS
    assert stats(db)["spans"] == N_SPANS


def test_if_empty_does_nothing_when_reports_exist(db: Path, tmp_path: Path) -> None:
    ok(db, "import", str(SAMPLE / "case01.txt"))
    result = ok(db, "import", "--if-empty", str(SAMPLE))
    assert "1 reports" in result.stderr or "1 report" in result.stderr
    assert "nothing imported" in result.stderr
    data = stats(db)
    assert (data["reports"], data["spans"]) == (1, 0)


# --- import: errors, each one line on stderr --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["import"], id="import-without-paths"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["export", "--bogus"], id="unknown-option"),
        pytest.param(["stats", "extra"], id="extra-argument"),
    ],
)
def test_usage_errors_are_one_line(db: Path, args: list[str]) -> None:
    assert_one_line_error(run(db, *args))


def test_import_missing_path(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-report.txt"
    result = run(db, "import", str(missing))
    assert_one_line_error(result, "no-such-report.txt")


def test_import_unknown_format(db: Path) -> None:
    result = run(db, "import", "--format", "xml", str(SAMPLE / "case01.txt"))
    assert_one_line_error(result, "xml")


def test_import_unknown_extension_asks_for_format(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("Aspirin caused a rash.\n", encoding="utf-8")
    assert_one_line_error(run(db, "import", str(path)), str(path), "--format")
    # With --format it is read as a text report.
    assert summary(ok(db, "import", "--format", "text", str(path)))["reports"] == 1
    assert export_lines(db)[0]["id"] == "report"


def test_import_folder_without_reports(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert_one_line_error(run(db, "import", str(folder)), str(folder))


def test_import_invalid_utf8_names_file_and_byte_offset(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    data = b"Title: Caf\xe9 case\n\nBody\n"
    assert data.index(b"\xe9") == 10
    path.write_bytes(data)
    line = assert_one_line_error(run(db, "import", str(path)), str(path), "byte 10")
    assert "--encoding" in line
    assert stats(db)["reports"] == 0


def test_import_with_encoding_latin1(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"Title: Caf\xe9 case\n\nBody 5 \xb5g\n")
    assert summary(ok(db, "import", "--encoding", "latin-1", str(path)))["reports"] == 1
    (report,) = export_lines(db)
    assert report["text"] == "Title: Café case\n\nBody 5 µg\n"
    assert report["meta"]["title"] == "Café case"


def test_import_with_encoding_utf16(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("Fièvre 💊\r\nfin\r\n".encode("utf-16"))
    ok(db, "import", "--encoding", "utf-16", str(path))
    assert export_lines(db)[0]["text"] == "Fièvre 💊\nfin\n"


def test_import_unknown_encoding(db: Path) -> None:
    result = run(db, "import", "--encoding", "klingon", str(SAMPLE / "case01.txt"))
    assert_one_line_error(result, "klingon")


def malformed_file(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "bad.jsonl",
        {"id": "a", "text": "First report."},
        '{"id": "b", "text": "broken',
        {"id": "c", "text": "Third report."},
    )


def test_import_malformed_json_line_stops_and_keeps_nothing_from_the_file(
    db: Path, tmp_path: Path
) -> None:
    path = malformed_file(tmp_path)
    line = assert_one_line_error(run(db, "import", str(path)))
    assert re.search(rf"{re.escape(str(path))}:2: \S", line), line
    assert stats(db)["reports"] == 0


def test_import_malformed_file_keeps_the_other_files(db: Path, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", {"id": "g", "text": "Good report."})
    bad = malformed_file(tmp_path)
    saved = (
        "Before the error: imported 1 report and 0 spans from 1 file (1 jsonl); "
        "0 already present, 0 duplicates of other reports, 0 errors.\n"
    )
    assert_one_line_error(run(db, "import", str(good), str(bad)), f"{bad}:2:", stdout=saved)
    assert [r["id"] for r in export_lines(db)] == ["g"]


def test_import_skip_invalid_keeps_the_rest_and_counts_skipped(db: Path, tmp_path: Path) -> None:
    path = malformed_file(tmp_path)
    result = ok(db, "import", "--skip-invalid", str(path))
    numbers = summary(result)
    assert numbers["reports"] == 2
    assert numbers["skipped"] == 1
    assert numbers["errors"] == 1
    assert f"{path}:2:" in result.stderr
    assert [r["id"] for r in export_lines(db)] == ["a", "c"]


def test_import_skip_invalid_goes_on_after_every_malformed_line(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        "{not json",
        {"id": "a", "text": "First report."},
        '{"id": "b"}',
        {"id": "c", "text": "Third report."},
        "[1, 2",
    )
    result = ok(db, "import", "--skip-invalid", str(path))
    numbers = summary(result)
    assert (numbers["reports"], numbers["skipped"], numbers["errors"]) == (2, 3, 3)
    for line in (1, 3, 5):
        assert f"{path}:{line}:" in result.stderr
    assert [r["id"] for r in export_lines(db)] == ["a", "c"]


def test_import_skip_invalid_skips_a_record_with_a_bad_span(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "a", "text": "Aspirin", "spans": [{"start": 0, "end": 7, "label": "drug"}]},
        {"id": "b", "text": "Rash", "spans": [{"start": 0, "end": 9, "label": "event"}]},
    )
    numbers = summary(ok(db, "import", "--skip-invalid", str(path)))
    assert (numbers["reports"], numbers["spans"], numbers["skipped"]) == (1, 1, 1)
    assert [r["id"] for r in export_lines(db)] == ["a"]


@pytest.mark.parametrize(
    ("record", "words"),
    [
        pytest.param('["not", "an", "object"]', ["object"], id="not-an-object"),
        pytest.param({"id": "a"}, ['"text"'], id="no-text"),
        pytest.param({"id": "a", "text": 5}, ['"text"'], id="text-not-string"),
        pytest.param({"id": "a", "text": "x", "meta": []}, ['"meta"'], id="meta-not-object"),
        pytest.param(
            {"id": "a", "text": "x", "spans": {"start": 0, "end": 1, "label": "drug"}},
            ['"spans"'],
            id="spans-not-list",
        ),
        pytest.param(
            {"id": "a", "text": "xy", "spans": [{"start": "0", "end": 1, "label": "drug"}]},
            ['"start"'],
            id="start-not-int",
        ),
        pytest.param(
            {"id": "a", "text": "xy", "spans": [{"start": 0, "end": 1}]},
            ['"label"'],
            id="no-label",
        ),
    ],
)
def test_import_malformed_records(db: Path, tmp_path: Path, record, words: list[str]) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", record)
    assert_one_line_error(run(db, "import", str(path)), f"{path}:1:", *words)
    assert stats(db)["reports"] == 0


@pytest.mark.parametrize(
    "record",
    [
        pytest.param('{"id": "a", "text": "bad \\ud800 surrogate"}', id="in-text"),
        pytest.param('{"id": "a", "text": "ok", "meta": {"k": "\\udfff"}}', id="in-meta"),
        pytest.param(
            '{"id": "a", "text": "ok", "spans": [{"start": 0, "end": 2, "label": "drug", '
            '"note": "\\ud83d"}]}',
            id="in-span-note",
        ),
    ],
)
def test_import_lone_surrogate_escape_is_a_line_error(
    db: Path, tmp_path: Path, record: str
) -> None:
    # Valid JSON syntax (json.loads accepts it) but not storable text: an error for that line.
    path = write_jsonl(tmp_path / "a.jsonl", {"id": "first", "text": "fine"}, record)
    assert_one_line_error(run(db, "import", str(path)), f"{path}:2:")
    assert stats(db)["reports"] == 0


def test_import_span_past_the_end(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "ok", "text": "fine"},
        {"id": "r1", "text": "Aspirin", "spans": [{"start": 3, "end": 12, "label": "drug"}]},
    )
    assert_one_line_error(run(db, "import", str(path)), f"{path}:2:", "3-12", "outside")
    assert stats(db)["reports"] == 0


def test_import_span_with_negative_or_empty_offsets(db: Path, tmp_path: Path) -> None:
    for start, end in ((-1, 3), (4, 4), (5, 2)):
        line = {
            "id": "r1",
            "text": "Aspirin",
            "spans": [{"start": start, "end": end, "label": "drug"}],
        }
        path = write_jsonl(tmp_path / "a.jsonl", line)
        assert_one_line_error(run(db, "import", str(path)), f"{path}:1:", f"{start}-{end}")
    assert stats(db)["reports"] == 0


def test_import_span_text_mismatch(db: Path, tmp_path: Path) -> None:
    line = {
        "id": "r1",
        "text": "Aspirin caused a rash.",
        "spans": [{"start": 0, "end": 7, "label": "drug", "text": "Ibuprof"}],
    }
    path = write_jsonl(tmp_path / "a.jsonl", line)
    assert_one_line_error(run(db, "import", str(path)), f"{path}:1:", "'Ibuprof'", "'Aspirin'")
    assert stats(db)["reports"] == 0


def test_import_unknown_label(db: Path, tmp_path: Path) -> None:
    line = {"id": "r1", "text": "Aspirin", "spans": [{"start": 0, "end": 7, "label": "route"}]}
    path = write_jsonl(tmp_path / "a.jsonl", line)
    assert_one_line_error(run(db, "import", str(path)), f"{path}:1:", "'route'", "labels.toml")
    assert stats(db)["reports"] == 0


def test_import_same_id_with_different_text_names_both_sources(db: Path, tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "first.jsonl", {"id": "r1", "text": "Aspirin caused a rash."})
    second = write_jsonl(tmp_path / "second.jsonl", {"id": "r1", "text": "Something else."})
    ok(db, "import", str(first))
    line = assert_one_line_error(run(db, "import", str(second)), "'r1'")
    assert str(first) in line
    assert str(second) in line
    (report,) = export_lines(db)
    assert report["text"] == "Aspirin caused a rash."


def test_import_same_id_with_different_text_within_one_file(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        {"id": "r1", "text": "Aspirin caused a rash."},
        {"id": "r1", "text": "Something else."},
    )
    line = assert_one_line_error(run(db, "import", str(path)), "'r1'")
    assert f"{path}:1" in line and f"{path}:2" in line
    assert stats(db)["reports"] == 0


def test_import_text_file_against_jsonl_with_same_id_and_other_text(
    sample_db: Path, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", {"id": "case01", "text": "A different case01."})
    line = assert_one_line_error(run(sample_db, "import", str(path)), "'case01'", str(path))
    assert str(SAMPLE / "case01.txt") in line
    assert stats(sample_db)["reports"] == N_REPORTS


# --- export -----------------------------------------------------------------------------------


def test_export_jsonl_to_stdout(sample_db: Path) -> None:
    result = ok(sample_db, "export")
    assert result.stderr == ""
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == N_REPORTS
    assert [r["id"] for r in reports] == [p.stem for p in SAMPLE_TXT]  # import order
    n_spans = 0
    for report in reports:
        assert list(report) == ["id", "text", "meta", "spans"]
        for span in report["spans"]:
            assert list(span) == [
                "id",
                "start",
                "end",
                "label",
                "text",
                "reviewer",
                "attributes",
                "note",
            ]
            assert report["text"][span["start"] : span["end"]] == span["text"]
            n_spans += 1
        starts = [(s["start"], s["end"]) for s in report["spans"]]
        assert starts == sorted(starts)  # document order
    assert n_spans == N_SPANS
    assert "µg" in result.stdout  # UTF-8 as is, not \u escapes


def test_export_to_file_is_atomic_and_leaves_no_temporary_files(
    sample_db: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "export.jsonl"
    target.write_text("old content\n", encoding="utf-8")
    result = ok(sample_db, "export", "-o", str(target))
    assert result.stdout == ""
    assert f"Wrote {N_REPORTS} lines" in result.stderr
    assert target.read_text(encoding="utf-8") == ok(sample_db, "export").stdout
    assert sorted(p.name for p in out_dir.iterdir()) == ["export.jsonl"]


def test_export_to_a_missing_folder(sample_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "export.jsonl"
    assert_one_line_error(run(sample_db, "export", "-o", str(target)), str(target))
    assert not target.parent.exists()


def test_export_to_a_folder_is_an_error(sample_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "outdir"
    folder.mkdir()
    assert_one_line_error(run(sample_db, "export", "-o", str(folder)), "outdir")
    assert list(folder.iterdir()) == []


def test_failed_export_leaves_the_old_file_and_no_temporary_files(
    sample_db: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "export.jsonl"
    target.write_text("old content\n", encoding="utf-8")
    assert_one_line_error(run(sample_db, "export", "--label", "nope", "-o", str(target)), "'nope'")
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["export.jsonl"]


def test_export_label_filter(sample_db: Path) -> None:
    reports = export_lines(sample_db, "--label", "drug")
    assert len(reports) == N_REPORTS  # every report is written, with its matching spans
    spans = [s for r in reports for s in r["spans"]]
    assert len(spans) == LABEL_COUNTS["drug"]
    assert {s["label"] for s in spans} == {"drug"}
    assert export_lines(sample_db, "--label", "DRUG") == reports


def test_export_reviewer_filter(sample_db: Path) -> None:
    spans = [s for r in export_lines(sample_db, "--reviewer", "alice") for s in r["spans"]]
    assert len(spans) == REVIEWER_COUNTS["alice"]
    assert {s["reviewer"] for s in spans} == {"alice"}
    # A name the database does not know is a typo, not an empty export.
    result = run(sample_db, "export", "--reviewer", "nobody")
    assert result.exit_code == 1
    assert "no reviewer named 'nobody' here (reviewers: alice, bob)" in result.output


def test_export_label_and_reviewer_filters_combine(sample_db: Path) -> None:
    expected = sum(
        1
        for line in DEMO_LINES
        for s in line["spans"]
        if line["_annotator_id"] == "bob" and s["label"] == "test"
    )
    reports = export_lines(sample_db, "--label", "test", "--reviewer", "bob")
    assert sum(len(r["spans"]) for r in reports) == expected


def set_statuses(db: Path) -> None:
    with Store(db) as store:
        store.set_status("case01", "alice", Status.DONE)
        store.set_status("case02", "bob", Status.IN_PROGRESS)
        store.set_status("case03", "alice", Status.FLAGGED, reason="unclear dose")
        store.set_status("case04", "bob", Status.TODO)


def test_export_status_filter(sample_db: Path) -> None:
    set_statuses(sample_db)

    def ids(*args: str) -> list[str]:
        return [r["id"] for r in export_lines(sample_db, *args)]

    assert ids("--status", "done") == ["case01"]
    assert ids("--status", "in_progress") == ["case02"]
    assert ids("--status", "flagged") == ["case03"]
    assert ids("--status", "done", "--reviewer", "alice") == ["case01"]
    assert ids("--status", "done", "--reviewer", "bob") == []
    todo = ids("--status", "todo")
    assert todo == [p.stem for p in SAMPLE_TXT if p.stem not in {"case01", "case02", "case03"}]
    bob_todo = ids("--status", "todo", "--reviewer", "bob")
    assert "case01" in bob_todo and "case02" not in bob_todo
    # With --reviewer, only that reviewer's spans come along.
    (case01,) = export_lines(sample_db, "--status", "done", "--reviewer", "alice")
    assert {s["reviewer"] for s in case01["spans"]} == {"alice"}


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--label", "nope"], "'nope'"),
        (["--status", "finished"], "finished"),
        (["--format", "csv"], "csv"),
    ],
)
def test_export_bad_values(sample_db: Path, args: list[str], word: str) -> None:
    assert_one_line_error(run(sample_db, "export", *args), word)


def test_export_spans_format(sample_db: Path) -> None:
    texts = {r["id"]: r["text"] for r in export_lines(sample_db)}
    lines = export_lines(sample_db, "--format", "spans")
    assert len(lines) == N_SPANS
    for line in lines:
        assert list(line)[:2] == ["report_id", "id"]
        assert {"start", "end", "label", "text", "reviewer", "left", "right"} <= set(line)
        text = texts[line["report_id"]]
        start, end = line["start"], line["end"]
        assert text[start:end] == line["text"]
        assert line["left"] == text[max(0, start - 40) : start].replace("\n", " ")
        assert line["right"] == text[end : end + 40].replace("\n", " ")
        assert "\n" not in line["left"] + line["right"]
    first = lines[0]
    assert first["report_id"] == "case01"
    assert first["text"] == "Dupilumab"
    assert first["left"].endswith("Background ")


def test_export_spans_format_with_filters(sample_db: Path) -> None:
    lines = export_lines(sample_db, "--format", "spans", "--label", "event", "--reviewer", "bob")
    expected = sum(
        1
        for line in DEMO_LINES
        for s in line["spans"]
        if line["_annotator_id"] == "bob" and s["label"] == "event"
    )
    assert len(lines) == expected
    assert {(x["label"], x["reviewer"]) for x in lines} == {("event", "bob")}


def test_export_of_an_empty_database(db: Path) -> None:
    Store(db).close()
    result = ok(db, "export")
    assert result.stdout == ""


def test_export_import_export_gives_identical_bytes(sample_db: Path, tmp_path: Path) -> None:
    extra = write_jsonl(
        tmp_path / "extra.jsonl",
        {
            "id": "odd",
            "text": "\ufeffAspirin\r\nrash 💊 fe\u0301ver\u2028\x1b[0m end",
            "meta": {"country": "FR", "tags": ["a", "b"]},
            "_annotator_id": "carol",
            "spans": [
                {"start": 1, "end": 8, "label": "drug", "attributes": {"negated": True}},
                {"start": 10, "end": 14, "label": "event", "note": "mild"},
                {"start": 10, "end": 14, "label": "event", "note": "mild"},
            ],
        },
        {"id": "odd-copy", "text": "Aspirin\nrash 💊 fe\u0301ver\u2424\u241b[0m end"},
    )
    ok(sample_db, "import", str(extra))
    first = tmp_path / "first.jsonl"
    ok(sample_db, "export", "-o", str(first))
    fresh = tmp_path / "fresh" / "reviewer.db"
    numbers = summary(ok(fresh, "import", str(first)))
    assert numbers["reports"] == N_REPORTS + 2
    assert numbers["spans"] == N_SPANS + 3
    second = tmp_path / "second.jsonl"
    ok(fresh, "export", "-o", str(second))
    assert second.read_bytes() == first.read_bytes()
    for fmt in ("spans",):
        assert (
            ok(fresh, "export", "--format", fmt).stdout
            == ok(sample_db, "export", "--format", fmt).stdout
        )


# --- stats ------------------------------------------------------------------------------------


def test_stats_json(sample_db: Path) -> None:
    data = stats(sample_db)
    assert data["reports"] == N_REPORTS
    assert data["duplicates"] == 0
    assert data["spans"] == N_SPANS
    assert data["labels"] == dict(LABEL_COUNTS)
    assert data["reviewers"] == dict(REVIEWER_COUNTS)
    assert data["status"] == {r: {"todo": N_REPORTS} for r in REVIEWER_COUNTS}


def test_stats_json_counts_statuses(sample_db: Path) -> None:
    set_statuses(sample_db)
    status = stats(sample_db)["status"]
    assert status["alice"] == {"done": 1, "flagged": 1, "todo": N_REPORTS - 2}
    assert status["bob"] == {"in_progress": 1, "todo": N_REPORTS - 1}


def test_stats_text(sample_db: Path) -> None:
    out = ok(sample_db, "stats").stdout
    assert out.splitlines()[0] == f"{N_REPORTS} reports (0 duplicates), {N_SPANS} spans"
    for label, n in LABEL_COUNTS.items():
        assert re.search(rf"^\s+{label}\s+{n}$", out, re.M), label
    for reviewer, n in REVIEWER_COUNTS.items():
        assert re.search(rf"^\s+{reviewer}\s+{n}$", out, re.M), reviewer
    assert re.search(rf"^\s+alice\s+todo {N_REPORTS}$", out, re.M)


@pytest.mark.parametrize("command", [["stats"], ["export"], []])
def test_a_mistyped_db_is_an_error_not_a_new_database(db: Path, command: list[str]) -> None:
    assert_one_line_error(run(db, *command), str(db), "no database here yet")
    assert not db.exists() and not db.parent.exists()


def test_stats_of_an_empty_database(db: Path) -> None:
    Store(db).close()
    data = stats(db)
    assert (data["reports"], data["spans"], data["duplicates"]) == (0, 0, 0)
    assert data["labels"] == {} and data["reviewers"] == {}
    assert ok(db, "stats").stdout.splitlines()[0] == "0 reports (0 duplicates), 0 spans"


# --- the database and the reviewer name -------------------------------------------------------


def test_default_database_is_annotations_reviewer_db(tmp_path: Path) -> None:
    result = invoke(["import", str(SAMPLE / "case01.txt")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "annotations" / "reviewer.db").is_file()


def test_reviewer_db_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "from-env" / "env.db"
    result = invoke(["import", str(SAMPLE)], env={"REVIEWER_DB": str(path)})
    assert result.exit_code == 0, result.output
    assert path.is_file()
    assert not (tmp_path / "annotations").exists()
    data = json.loads(invoke(["stats", "--json"], env={"REVIEWER_DB": str(path)}).stdout)
    assert (data["reports"], data["spans"]) == (N_REPORTS, N_SPANS)
    # --db wins over the environment.
    other = tmp_path / "other.db"
    invoke(
        ["--db", str(other), "import", str(SAMPLE / "case01.txt")], env={"REVIEWER_DB": str(path)}
    )
    assert other.is_file()


def test_reviewer_name_environment_variable(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line())
    result = invoke(["--db", str(db), "import", str(path)], env={"REVIEWER_NAME": "erin"})
    assert result.exit_code == 0, result.output
    assert stats(db)["reviewers"] == {"erin": 2}


def test_reviewer_option_wins_over_reviewer_name(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line())
    result = invoke(
        ["--db", str(db), "--reviewer", "frank", "import", str(path)],
        env={"REVIEWER_NAME": "erin"},
    )
    assert result.exit_code == 0, result.output
    assert stats(db)["reviewers"] == {"frank": 2}


def test_reviewer_defaults_to_the_login_name(db: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", annotated_line())
    result = invoke(["--db", str(db), "import", str(path)], env={"LOGNAME": "grace"})
    assert result.exit_code == 0, result.output
    assert stats(db)["reviewers"] == {"grace": 2}


def test_empty_reviewer_name_is_an_error(db: Path) -> None:
    result = invoke(["--db", str(db), "--reviewer", "  ", "stats"])
    assert_one_line_error(result, "--reviewer")


def test_db_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    content = "These are my notes, not a database.\n" * 10
    path.write_text(content, encoding="utf-8")
    for args in (["stats"], ["export"], ["import", str(SAMPLE / "case01.txt")]):
        result = invoke(["--db", str(path), *args])
        assert_one_line_error(result, str(path), "not a database")
    assert path.read_text(encoding="utf-8") == content


def test_db_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    assert_one_line_error(invoke(["--db", str(folder), "stats"]), "adir")


def test_db_in_a_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder would have to be\n", encoding="utf-8")
    path = blocker / "sub" / "reviewer.db"
    for args in (["stats"], ["import", str(SAMPLE / "case01.txt")]):
        result = invoke(["--db", str(path), *args])
        assert_one_line_error(result, str(blocker))
    assert blocker.is_file()


def test_export_into_a_pipe_closed_early_stops_quietly(sample_db: Path) -> None:
    # `reviewer export | head -1`: the reader goes away; no traceback, no "Exception ignored".
    import subprocess
    import sys

    reviewer = Path(sys.executable).with_name("reviewer")
    proc = subprocess.Popen(
        [str(reviewer), "--db", str(sample_db), "export"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert json.loads(first)["id"] == "case01"
    assert err == ""
    assert proc.returncode == 141


def test_formats_lists_every_format_import_and_export_know(tmp_path: Path) -> None:
    from reviewer.core.exporter import EXPORT_FORMATS
    from reviewer.core.sources import FORMATS as IMPORT_FORMATS

    result = invoke(["formats"])
    assert result.exit_code == 0
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.split("\n\n")[0].splitlines()[1:]
    }
    for name in set(IMPORT_FORMATS) - {"auto"}:
        assert rows[name][0] == "yes", name  # readable
    for name in {*EXPORT_FORMATS, "brat"}:
        assert rows[name][1] == "yes", name  # writable
    assert rows["brat"][2:] == ["yes"] * 5  # spans, attributes, notes, relations, discontinuous


def test_an_export_with_imported_labels_reimports_with_new_labels(tmp_path: Path) -> None:
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "r.txt").write_text("Aspirin at 40 years.\n", encoding="utf-8")
    # Drug (a brat type of its own) and drug (mapped) are two labels: both must come back.
    (folder / "r.ann").write_text(
        "T1\tMedication 0 7\tAspirin\nT2\tAge 11 19\t40 years\nT3\tDrug 0 7\tAspirin\n"
    )
    first_db, second_db = tmp_path / "a" / "r.db", tmp_path / "b" / "r.db"
    result = ok(first_db, "import", str(folder), "--map", "Medication=drug")
    assert "label Age (new, kept as it is): 1" in result.stderr
    first = tmp_path / "first.jsonl"
    ok(first_db, "export", "-o", str(first))
    assert_one_line_error(run(second_db, "import", str(first)), "'Age'", "--new-labels")
    ok(second_db, "import", str(first), "--new-labels")
    assert stats(second_db)["labels"] == {"Age": 1, "Drug": 1, "drug": 1}
    second = tmp_path / "second.jsonl"
    ok(second_db, "export", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
