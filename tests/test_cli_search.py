"""``reviewer search``, driven through click's CliRunner over the sample reports.

The database is imported once (through the CLI) and only read; expected values come from the
store itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reviewer.cli import cli
from reviewer.core.search import fold
from reviewer.core.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "sample_reports"

# " 94.1  Dupilumab  drug 4  · 4 in 1 report: case01  · alice, bob"
GROUP_LINE = re.compile(
    r"^\s*(?P<score>\d+\.\d)  (?P<text>.+?)  (?P<labels>(?:\w+ \d+(?:, )?)+)"
    r"  · (?P<n>\d+) in (?P<reports>\d+) reports?: (?P<ids>.+?)  · (?P<reviewers>.+)$"
)
# " 93.3  case01:1437-1445  erythema  (event:alice, event:bob)"
TEXT_LINE = re.compile(
    r"^\s*(?P<score>\d+\.\d)  (?P<rid>\S+):(?P<start>\d+)-(?P<end>\d+)  (?P<text>.+)"
    r"  \((?P<tagged>.*)\)$"
)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path (the default database is relative to it) with no reviewer env vars."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWER_DB", raising=False)
    monkeypatch.delenv("REVIEWER_NAME", raising=False)


def invoke(args: list[str]) -> Result:
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    # Never a traceback, whatever happened.
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding sample_reports/ (reports and demo annotations)."""
    path = tmp_path_factory.mktemp("cli-search") / "ws" / "reviewer.db"
    result = invoke(["--db", str(path), "--reviewer", "alice", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def store(db: Path) -> Iterator[Store]:
    with Store(db) as store:
        yield store


def search(db: Path, *args: str) -> Result:
    return invoke(["--db", str(db), "search", *args])


def ok(db: Path, *args: str) -> Result:
    result = search(db, *args)
    assert result.exit_code == 0, result.output
    return result


def records(db: Path, *args: str) -> list[dict]:
    out = ok(db, "--json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def assert_one_line_error(result: Result, *words: str) -> str:
    """A failed command: non-zero exit, exactly one line on stderr, nothing on stdout."""
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert result.stdout == ""
    return lines[0]


def test_a_typo_prints_the_intended_group_first(db: Path, store: Store) -> None:
    lines = ok(db, "dupilumb").stdout.splitlines()
    assert lines
    first = GROUP_LINE.match(lines[0])
    assert first, lines[0]
    assert first["text"] == "Dupilumab"
    spans = [s for s in store.spans() if fold(s.text) == "dupilumab"]
    assert first["labels"] == f"drug {len(spans)}"
    assert int(first["n"]) == len(spans)
    assert int(first["reports"]) == len({s.report_id for s in spans})
    assert first["reviewers"] == "alice, bob"
    for line in lines:
        assert GROUP_LINE.match(line), line
    scores = [float(GROUP_LINE.match(line)["score"]) for line in lines]
    assert scores == sorted(scores, reverse=True)


def test_json_is_one_object_per_span_true_to_the_text(db: Path, store: Store) -> None:
    out = records(db, "dupilumb")
    assert out
    for r in out:
        assert {"report_id", "start", "end", "label", "text", "score"} <= set(r)
        assert store.report(r["report_id"]).text[r["start"] : r["end"]] == r["text"]
        assert isinstance(r["score"], float)
    assert fold(out[0]["text"]) == "dupilumab"
    first = [r for r in out if fold(r["text"]) == "dupilumab"]
    assert len(first) == sum(1 for s in store.spans() if fold(s.text) == "dupilumab")
    # Non-ASCII texts are written as they are.
    raw = ok(db, "--json", "Stevens Jonson syndrome").stdout
    assert "Stevens–Johnson syndrome" in raw


def test_text_mode_prints_places_in_the_reports(db: Path, store: Store) -> None:
    lines = ok(db, "--text", "erythma").stdout.splitlines()
    assert lines
    for line in lines:
        m = TEXT_LINE.match(line)
        assert m, line
        text = store.report(m["rid"]).text
        assert text[int(m["start"]) : int(m["end"])] == m["text"]
    first = TEXT_LINE.match(lines[0])
    assert first["text"].casefold() == "erythema"
    tags = {TEXT_LINE.match(line)["tagged"] for line in lines}
    assert "not tagged" in tags
    assert any("event:bob" in t for t in tags)


def test_text_mode_json(db: Path, store: Store) -> None:
    out = records(db, "--text", "acute kidney injury")
    assert out
    for r in out:
        assert {"report_id", "start", "end", "label", "text", "score", "tagged"} <= set(r)
        assert r["label"] is None
        assert store.report(r["report_id"]).text[r["start"] : r["end"]] == r["text"]
        assert r["text"].casefold() == "acute kidney injury"
    assert any("event:alice" in r["tagged"] for r in out)


def test_label_and_reviewer_options(db: Path, store: Store) -> None:
    drugs = records(db, "--label", "drug", "", "--limit", "1000")
    assert {(r["report_id"], r["start"], r["end"], r["reviewer"]) for r in drugs} == {
        (s.report_id, s.start, s.end, s.reviewer) for s in store.spans(label="drug")
    }
    # myocarditis is an event and a diagnosis: --label keeps the one asked for.
    events = records(db, "--label", "event", "myocarditis")
    assert events and all(r["label"] == "event" for r in events)
    assert fold(events[0]["text"]) == "myocarditis"
    bobs = records(db, "--reviewer", "bob", "dupilumb")
    assert bobs and all(r["reviewer"] == "bob" for r in bobs)
    both = records(db, "--reviewer", "bob", "--label", "drug", "reviewer:alice", "--limit", "1000")
    # The options are filters like those in the query (the option wins over reviewer:alice).
    assert {(r["report_id"], r["start"], r["end"]) for r in both} == {
        (s.report_id, s.start, s.end) for s in store.spans(label="drug", reviewer="bob")
    }
    # The same filters written in the query.
    assert records(db, "label:drug", "--limit", "1000") == records(
        db, "--label", "drug", "", "--limit", "1000"
    )
    # A label in another case is the schema's label.
    assert records(db, "--label", "DRUG", "dupilumb") == records(db, "--label", "drug", "dupilumb")
    # Text mode with --reviewer: only reports bob has spans in.
    bobs_reports = {s.report_id for s in store.spans(reviewer="bob")}
    places = records(db, "--text", "--reviewer", "bob", "patient", "--limit", "1000")
    assert places and {r["report_id"] for r in places} <= bobs_reports


def test_limit(db: Path) -> None:
    out = records(db, "e", "--limit", "3")
    assert len({r["group"] for r in out}) == 3
    assert len(ok(db, "e", "--limit", "3").stdout.splitlines()) == 3
    assert len(ok(db, "--text", "patient", "--limit", "5").stdout.splitlines()) == 5
    assert len(records(db, "--text", "e", "--limit", "4")) == 4
    default = ok(db, "e").stdout.splitlines()
    assert len(default) == 20
    assert_one_line_error(search(db, "e", "--limit", "0"), "--limit")


def test_no_match_says_so(db: Path) -> None:
    result = ok(db, "zzzzqqqxx")
    assert result.stdout == ""
    assert result.stderr.strip() == "no match"
    assert ok(db, "--json", "zzzzqqqxx").stdout == ""


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["colour:red dupilumab"], ["unknown filter", "'colour'", "label:", "reviewer:"]),
        (["label:medication x"], ["unknown label", "drug", "event", "test", "diagnosis"]),
        (["--label", "medication", "x"], ["unknown label", "drug"]),
        (["status:finished x"], ["unknown status", "done", "todo"]),
        (["--text", "label:drug dupilumab"], ["label:"]),
        (["--text", "--label", "drug", "dupilumab"], ["label:"]),
    ],
)
def test_bad_queries_are_one_line_errors(db: Path, args: list[str], words: list[str]) -> None:
    line = assert_one_line_error(search(db, *args), *words)
    assert line.startswith("Error: ")


def test_a_missing_database_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "reviewer.db"
    result = invoke(["--db", str(missing), "search", "dupilumab"])
    assert_one_line_error(result, str(missing), "no database")
    assert not missing.exists()
    assert not missing.parent.exists()
    # The default database too.
    assert_one_line_error(invoke(["search", "dupilumab"]), "no database")
    assert not (tmp_path / "annotations").exists()
