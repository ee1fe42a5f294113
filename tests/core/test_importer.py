"""Import rules a user relies on: untrusted metadata, re-imports after work done here,
transactions that fail late, files that cannot be read, atomic exports."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from reviewer.core.exporter import export, write_atomic
from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.model import ReviewerError, Span, Status, ValidationError
from reviewer.core.schema import load_schema
from reviewer.core.store import Store


def jsonl(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "reviewer.db") as s:
        yield s


def test_control_characters_in_metadata_never_reach_the_terminal(store: Store, tmp_path) -> None:
    title = "Hello\x1b]2;PWNED\x1b\\ \x1b[7mINV\nsecond line\u2028third"
    path = jsonl(
        tmp_path / "a.jsonl",
        {"id": "r1", "text": "Body", "meta": {"title": title, "note": "a\x07b\nc"}},
    )
    import_paths(store, [path], reviewer="alice")
    report = store.report("r1")
    assert report.title == "Hello␛]2;PWNED␛\\ ␛[7mINV second line third"
    assert report.meta["note"] == "a␇b\nc"  # free metadata keeps its line breaks


def test_a_report_id_with_control_characters_is_refused(store: Store, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", {"id": "r\x1b[2J", "text": "Body"})
    with pytest.raises(ReviewerError, match=r"a.jsonl:1: report id .* control characters"):
        import_paths(store, [path], reviewer="alice")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"authors": 5}, '"authors" must be a list'),
        ({"authors": [1, 2]}, '"authors" must be a list'),
        ({"title": {"a": 1}}, '"title" must be a string, not dict'),
        ({"doi": ["x"]}, '"doi" must be a string, not list'),
    ],
)
def test_metadata_of_the_wrong_shape_is_a_line_error(
    store: Store, tmp_path: Path, meta: dict, message: str
) -> None:
    path = jsonl(tmp_path / "a.jsonl", {"id": "r1", "text": "Body", "meta": meta})
    with pytest.raises(ReviewerError, match=f"a.jsonl:1: .*{message}"):
        import_paths(store, [path], reviewer="alice")
    assert store.report_count() == 0


def test_empty_meta_fields_leave_the_header_and_round_trip(store: Store, tmp_path: Path) -> None:
    text = "Title: From header\nJournal: J\n\nBody"
    meta = {"title": "", "journal": None, "authors": []}
    path = jsonl(tmp_path / "a.jsonl", {"id": "a", "text": text, "meta": meta})
    import_paths(store, [path], reviewer="alice")
    assert (store.report("a").title, store.report("a").journal) == ("From header", "J")
    first = tmp_path / "first.jsonl"
    export(store, "jsonl", first)
    with Store(tmp_path / "second.db") as again:
        import_paths(again, [first], reviewer="alice")
        second = tmp_path / "second.jsonl"
        export(again, "jsonl", second)
    assert first.read_bytes() == second.read_bytes()


def test_empty_reports_are_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "blank.txt").write_text(" \n\n", encoding="utf-8")
    with pytest.raises(ReviewerError, match="blank.txt.*empty"):
        import_paths(store, [tmp_path / "in"], reviewer="alice")


def annotated(tmp_path: Path) -> Path:
    return jsonl(
        tmp_path / "a.jsonl",
        {
            "id": "r",
            "text": "Aspirin rash",
            "spans": [
                {"start": 0, "end": 7, "label": "drug"},
                {"start": 8, "end": 12, "label": "event"},
            ],
        },
    )


def test_reimport_keeps_spans_edited_here(store: Store, tmp_path: Path) -> None:
    path = annotated(tmp_path)
    import_paths(store, [path], reviewer="al")
    drug = next(s for s in store.spans() if s.label == "drug")
    store.update_span(drug.id, "al", note="checked")
    summary = import_paths(store, [path], reviewer="al")
    assert (summary.spans, summary.spans_edited_here, summary.spans_already_present) == (0, 1, 1)
    assert "1 spans kept as edited here" in summary.line()
    assert store.get_span(drug.id).note == "checked"  # type: ignore[union-attr]


def test_reimport_does_not_bring_back_deleted_spans_and_undo_still_works(
    store: Store, tmp_path: Path
) -> None:
    path = annotated(tmp_path)
    import_paths(store, [path], reviewer="al")
    drug = next(s for s in store.spans() if s.label == "drug")
    store.delete_span(drug.id, "al")
    summary = import_paths(store, [path], reviewer="al")
    assert (summary.spans, summary.spans_deleted_here) == (0, 1)
    assert [s.label for s in store.spans()] == ["event"]
    assert store.undo("al") is not None
    assert store.get_span(drug.id) == drug


def one_span(path: Path, report_id: str, text: str, start: int, end: int, label: str) -> Path:
    """A JSONL file of one report whose one span has the id ``s1``, as an export would."""
    span = {"id": "s1", "start": start, "end": end, "label": label}
    return jsonl(path, {"id": report_id, "text": text, "spans": [span]})


def test_a_span_changed_in_the_file_only_is_taken_and_ours_is_logged(
    store: Store, tmp_path: Path
) -> None:
    """A team member's export in which they relabelled a span we never touched: their
    version comes in, ours goes to the log, and the summary lists it."""
    import_paths(
        store, [one_span(tmp_path / "a.jsonl", "r", "Aspirin rash", 0, 7, "drug")], reviewer="al"
    )
    other = one_span(tmp_path / "b.jsonl", "r", "Aspirin rash", 0, 7, "event")
    summary = import_paths(store, [other], reviewer="al")
    assert store.get_span("s1").label == "event"
    (listed,) = summary.kept_here
    assert "taken from the file" in listed and "label ('drug' here, 'event' in the file)" in listed
    assert "1 spans updated from the file" in summary.line()
    assert any('"drug"' in (e["before"] or "") for e in store.events() if e["span_id"] == "s1")
    again = import_paths(store, [other], reviewer="al")
    assert again.spans_taken == 0 and again.spans_already_present == 1


def test_an_id_taken_by_another_reports_span_is_still_an_error(
    store: Store, tmp_path: Path
) -> None:
    import_paths(
        store, [one_span(tmp_path / "a.jsonl", "r", "Aspirin rash", 0, 7, "drug")], reviewer="al"
    )
    other = one_span(tmp_path / "b.jsonl", "q", "Rash on aspirin", 0, 4, "event")
    with pytest.raises(ReviewerError, match=r"span id s1 is already stored with another"):
        import_paths(store, [other], reviewer="al")


def test_an_unreadable_file_is_skipped_whole_with_skip_invalid(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    jsonl(folder / "a.jsonl", {"id": "ok", "text": "Fine"})
    (folder / "b.jsonl").write_bytes(b'{"id": "x", "text": "x"}\n\xff\n')
    with pytest.raises(ImportStopped, match=r"b.jsonl: invalid UTF-8 at byte 25") as stop:
        import_paths(store, [folder], reviewer="al")
    assert stop.value.summary.reports == 1  # a.jsonl was committed before b.jsonl failed
    summary = import_paths(store, [folder], reviewer="al", skip_invalid=True)
    assert (summary.skipped, summary.present_ids) == (1, {"ok"})
    assert store.report_ids() == ["ok"]


def test_a_failed_commit_rolls_back_and_later_writes_are_kept(tmp_path: Path) -> None:
    db = tmp_path / "reviewer.db"
    text = tmp_path / "in" / "r.txt"
    text.parent.mkdir()
    text.write_text("Aspirin rash", encoding="utf-8")
    with Store(db) as store:
        import_paths(store, [text.parent], reviewer="al")
        with pytest.raises(sqlite3.IntegrityError), store.write() as conn:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            conn.execute(
                "INSERT INTO spans (id, report_id, start_char, end_char, label, text, reviewer, "
                "created_at, updated_at) VALUES ('x', 'missing', 0, 1, 'drug', 'A', 'al', '', '')"
            )
        assert not store.conn.in_transaction
        store.add_span(Span("r", 0, 7, "drug", "Aspirin", "al"))
    with Store(db) as store:
        assert [s.text for s in store.spans()] == ["Aspirin"]


def test_export_through_a_symlink_replaces_the_target(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    write_atomic(link, ["new\n"])
    assert link.is_symlink() and target.read_text() == "new\n"


def test_export_to_a_fifo_writes_into_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_atomic(fifo, ["a\n", "b\n"])
    reader.join(timeout=10)
    assert got == ["a\nb\n"]
    assert fifo.exists() and not fifo.is_file()  # still a FIFO, not replaced by a file


def test_time_spent_must_be_a_positive_number(store: Store, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", {"id": "r", "text": "Body"})
    import_paths(store, [path], reviewer="al")
    for bad in (-100.0, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="time spent"):
            store.set_status("r", "al", Status.IN_PROGRESS, add_seconds=bad)
    assert store.status("r", "al").seconds_spent == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[label.dose]\nkey = "5"\ncolor = "#000000"\n', "unknown section"),
        ('[labels.dose]\nkey = "5"\ncolor = "#000000"\ndescription = [1]\n', "description"),
    ],
)
def test_labels_toml_mistakes_are_errors(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "labels.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ReviewerError, match=message):
        load_schema(tmp_path)


def test_labels_toml_that_is_a_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "labels.toml").mkdir()
    with pytest.raises(ReviewerError, match="not a readable file"):
        load_schema(tmp_path)


def test_spans_and_reports_are_hashable_by_id() -> None:
    a = Span("r", 0, 1, "drug", "A", "al", id="s1", attributes={"negated": True})
    assert {a, a} == {a}


def test_imports_leave_every_reference_sound_and_foreign_keys_on(tmp_path: Path) -> None:
    """The import writes its rows with SQLite's foreign-key checks off (they cost a second per
    200,000 spans); what it writes must hold up to the check all the same."""
    samples = Path(__file__).resolve().parents[2] / "sample_reports"
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "d.txt").write_text("Aspirin caused rash.", encoding="utf-8")
    (brat / "d.ann").write_text(
        "T1\tdrug 0 7\tAspirin\nT2\tevent 15 19\trash\nR1\tCause Arg1:T1 Arg2:T2\n"
        "E1\tevent:T2 Cause:T1\n",
        encoding="utf-8",
    )
    bad = jsonl(tmp_path / "bad.jsonl", {"id": "x", "text": "Body"}, {"id": "y"})
    with Store(tmp_path / "fk.db") as store:
        import_paths(store, [samples], reviewer="alice")
        import_paths(store, [samples], reviewer="alice")  # again: nothing new
        import_paths(store, [brat], reviewer="bob")
        with pytest.raises(ImportStopped):
            import_paths(store, [bad], reviewer="bob")
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert store.get_report("x") is None  # the failed file left nothing behind
        assert store.relations("d") and store.kept_lines("d", "brat")
