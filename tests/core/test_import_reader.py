"""A large file is read in a process of its own while this one writes (``_read_beside``): it
stores exactly what reading in this process stores, counts the same, fails the same, and a
reader that dies or an interrupted import leaves nothing of the file behind."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.core import importer
from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.model import ReviewerError
from reviewer.core.store import Store
from tests.core.test_import_fastpath import PLAIN, TEXT, A, R, import_steps, jsonl

TIMES = {"imported_at", "created_at", "updated_at", "added_at", "at"}


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes, times left out (each process has its clock)."""
    conn = sqlite3.connect(db)
    out = {}
    for name in ("reports", "spans", "labels", "kept_lines", "relations", "events"):
        cur = conn.execute(f"SELECT rowid, * FROM {name} ORDER BY rowid")
        keep = [i for i, d in enumerate(cur.description) if d[0] not in TIMES]
        out[name] = [tuple(row[i] for i in keep) for row in cur]
    conn.close()
    return out


def outcome(tmp: Path, monkeypatch, steps, *, beside: bool, name: str = "") -> dict:
    """The rows and summaries a series of imports leaves, read in this process or beside it
    (then in chunks of three spans, so that most files take several)."""
    monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0 if beside else 10**15)
    monkeypatch.setattr(importer, "CHUNK_SPANS", 3)
    db = tmp / f"{name}{'beside' if beside else 'here'}.db"
    with Store(db) as store:
        results = import_steps(store, steps)
    return {"results": results, **tables(db)}


def same_both_ways(tmp: Path, monkeypatch, steps) -> dict:
    here = outcome(tmp, monkeypatch, steps, beside=False)
    assert outcome(tmp, monkeypatch, steps, beside=True) == here
    return here


def records(n: int) -> list[dict]:
    crlf = TEXT.replace("\n", "\r\n")
    at = crlf.index("aspirin")
    out: list[dict] = []
    for i in range(n):
        out += [
            {"id": f"p{i}", "text": f"{TEXT} {i}", "spans": PLAIN},
            {
                "id": f"c{i}",
                "text": f"{crlf} {i}",
                "spans": [{"start": at, "end": at + 7, "label": "drug"}],
            },
            # Not plain: ids of their own, attributes, fragments (read through the general path).
            {
                "id": f"g{i}",
                "text": f"{TEXT} g{i}",
                "_annotator_id": "carol",
                "spans": [
                    {"start": A, "end": A + 7, "label": "drug", "id": f"given-{i}"},
                    {"start": R, "end": R + 4, "label": "event", "attributes": {"negated": True}},
                    {
                        "start": A,
                        "end": R + 4,
                        "label": "event",
                        "fragments": [[A, A + 7], [R, R + 4]],
                    },
                ],
            },
            # c{i} once normalised, and d{i}, are duplicates of p{i}.
            {"id": f"d{i}", "text": f"{TEXT} {i}", "spans": PLAIN[:1]},
        ]
    return out


def test_a_file_read_beside_stores_and_counts_what_reading_here_does(tmp_path, monkeypatch):
    path = jsonl(tmp_path / "a.jsonl", *records(20))
    got = same_both_ways(tmp_path, monkeypatch, [([path], {}), ([path], {})])
    assert len(got["reports"]) == 80
    assert len(got["spans"]) == 20 * (5 + 1 + 3 + 1)
    assert "80 reports" in got["results"][0][0] and "40 duplicates" in got["results"][0][0]
    assert "80 already present" in got["results"][1][0]  # the second time changes nothing


def test_into_a_populated_database_the_reader_looks_up_what_is_stored(tmp_path, monkeypatch):
    first = jsonl(tmp_path / "first.jsonl", *records(3))
    second = jsonl(
        tmp_path / "second.jsonl",
        *records(5),  # three stored already, two new
        {"id": "x", "text": f"{TEXT} 1", "spans": PLAIN},  # the text of p1: a duplicate
        {"id": "y", "text": TEXT + "!", "spans": [{**PLAIN[0], "id": "given-0"}]},  # id taken
        {"id": "z", "text": TEXT + "?", "spans": [{"start": A, "end": A + 7, "label": "Dose"}]},
    )
    steps = [([first], {}), ([second], {"skip_invalid": True, "new_labels": True})]
    got = same_both_ways(tmp_path, monkeypatch, steps)
    line, details, errors, _ = got["results"][1]
    assert "12 already present" in line and "1 invalid record skipped" in line
    assert "span id given-0 is already stored" in errors[0]
    # --new-labels takes labels exactly as written: DRUG and Event too.
    assert [row[1] for row in got["labels"]] == ["DRUG", "Event", "Dose"]


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_a_bad_line_fails_the_same_and_keeps_nothing_of_the_file(
    tmp_path, monkeypatch, skip_invalid: bool
) -> None:
    good = jsonl(tmp_path / "good.jsonl", {"id": "kept", "text": TEXT, "spans": PLAIN})
    bad = records(10)
    bad.insert(25, "{not json")
    bad.insert(
        31, {"id": "s", "text": TEXT + "s", "spans": [{"start": 5, "end": 5000, "label": "drug"}]}
    )
    path = jsonl(tmp_path / "bad.jsonl", *bad)
    got = same_both_ways(
        tmp_path, monkeypatch, [([good], {}), ([path], {"skip_invalid": skip_invalid})]
    )
    if skip_invalid:
        assert len(got["results"][1][2]) == 2
        assert len(got["reports"]) == 1 + 40
    else:
        assert got["results"][1].startswith(f"{path}:26: not valid JSON")
        assert [row[2] for row in got["reports"]] == ["kept"]  # nothing of bad.jsonl
        assert len(got["spans"]) == 5


def test_a_reader_that_dies_is_one_error_and_nothing_is_half_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0)
    dying = tmp_path / "dying.py"
    dying.write_text("import sys\nsys.stdin.buffer.read()\nsys.exit('no memory left')\n")
    real = subprocess.Popen

    def popen(args, **kwargs):  # the reader's command, with a script that dies instead
        return real([sys.executable, str(dying)], **kwargs)

    path = jsonl(tmp_path / "a.jsonl", *records(5))
    with Store(tmp_path / "r.db") as store:
        import_paths(store, [jsonl(tmp_path / "first.jsonl", *records(1))], reviewer="alice")
        monkeypatch.setattr(importer.subprocess, "Popen", popen)
        with pytest.raises(ReviewerError) as caught:
            import_paths(store, [path], reviewer="alice")
        assert str(caught.value) == (
            f"{path}: the reading process stopped (exit code 1: no memory left)"
        )
        assert store.conn.execute("SELECT count(*) FROM reports").fetchone() == (4,)
        monkeypatch.undo()
        import_paths(store, [path], reviewer="alice")  # and the store goes on working
        assert store.conn.execute("SELECT count(*) FROM reports").fetchone() == (20,)


def test_an_interrupted_import_stops_the_reader_and_rolls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0)
    monkeypatch.setattr(importer, "CHUNK_SPANS", 3)
    readers: list[subprocess.Popen] = []
    real_popen, real_write = subprocess.Popen, importer._FileImport._write
    writes = []

    def popen(*args, **kwargs):
        readers.append(real_popen(*args, **kwargs))
        return readers[-1]

    def write(self, chunk):  # Ctrl-C while the third chunk is being written
        writes.append(chunk)
        if len(writes) == 3:
            raise KeyboardInterrupt
        real_write(self, chunk)

    monkeypatch.setattr(importer.subprocess, "Popen", popen)
    monkeypatch.setattr(importer._FileImport, "_write", write)
    path = jsonl(tmp_path / "a.jsonl", *records(30))
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(KeyboardInterrupt):
            import_paths(store, [path], reviewer="alice")
        assert readers[0].returncode is not None  # stopped and waited for, not left running
        assert store.conn.execute("SELECT count(*) FROM reports").fetchone() == (0,)
        assert not store.conn.in_transaction


def fake_reader(monkeypatch, tmp_path: Path, script: str) -> None:
    """Start ``script`` instead of the reader (with the reader's pipes)."""
    path = tmp_path / "fake_reader.py"
    path.write_text(script)
    real = subprocess.Popen
    monkeypatch.setattr(
        importer.subprocess, "Popen", lambda args, **kw: real([sys.executable, str(path)], **kw)
    )


def test_a_reader_that_floods_its_pipes_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0)
    path = jsonl(tmp_path / "a.jsonl", *records(2))
    fake_reader(
        monkeypatch,
        tmp_path,
        "import sys\nsys.stdin.buffer.read()\nsys.stderr.write('x' * 2_000_000 + '\\nlast words')\n"
        "sys.stdout.write('not a pickle ' * 200_000)\n",
    )
    with Store(tmp_path / "r.db") as store, pytest.raises(ReviewerError) as caught:
        import_paths(store, [path], reviewer="alice")
    assert str(caught.value).startswith(f"{path}: the reading process stopped (exit code ")
    assert str(caught.value).endswith(": last words)")


def test_a_reader_that_stops_at_once_is_one_error_even_with_skip_invalid(tmp_path, monkeypatch):
    # Enough reports imported before that the job (which carries their ids) fills the pipe.
    many = [{"id": f"report-{i:06d}", "text": f"Report {i}."} for i in range(8000)]
    first = jsonl(tmp_path / "first.jsonl", *many)
    path = jsonl(tmp_path / "a.jsonl", *records(2))
    with Store(tmp_path / "r.db") as store:
        import_paths(store, [first], reviewer="alice")
        monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0)
        fake_reader(monkeypatch, tmp_path, "import sys\nsys.exit('cannot start')\n")
        with pytest.raises(ImportStopped) as caught:
            import_paths(store, [path], reviewer="alice", skip_invalid=True)
        assert (
            str(caught.value) == f"{path}: the reading process stopped (exit code 1: cannot start)"
        )
        assert store.report_count() == 8000


def test_the_reader_runs_this_copy_of_the_package_whatever_the_current_folder(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(importer, "CONCURRENT_BYTES", 0)
    other = tmp_path / "elsewhere"
    (other / "reviewer").mkdir(parents=True)
    (other / "reviewer" / "__init__.py").write_text("raise SystemExit('the wrong reviewer')\n")
    monkeypatch.chdir(other)
    monkeypatch.setenv("PYTHONPATH", str(other))
    path = jsonl(tmp_path / "a.jsonl", *records(2))
    with Store(tmp_path / "r.db") as store:
        summary = import_paths(store, [path], reviewer="alice")
        assert summary.reports == 8 and store.report_count() == 8
