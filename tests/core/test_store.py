"""The store: schema, pragmas, span actions, the append-only log, undo/redo across restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.model import ReviewerError, Span, Status, ValidationError
from reviewer.core.store import Cancelled, Store

TEXT = (
    "A 27-year-old woman developed facial erythema after dupilumab. "
    "ANA was 1:80 and she was diagnosed with SLE."
)


def make_store(tmp_path: Path, text: str = TEXT) -> Store:
    source = tmp_path / "in" / "case.txt"
    source.parent.mkdir(exist_ok=True)
    source.write_text(text, encoding="utf-8")
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [source.parent], reviewer="alice")
    return store


def span(text: str, phrase: str, label: str, reviewer: str = "alice", nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return Span("case", start, start + len(phrase), label, phrase, reviewer)


def test_pragmas_and_tables_are_plain(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    q = store.conn.execute
    assert q("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert q("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert q("PRAGMA foreign_keys").fetchone()[0] == 1
    assert q("PRAGMA busy_timeout").fetchone()[0] >= 5000
    tables = {r[0] for r in q("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"reports", "spans", "review_status", "actions", "events", "reports_fts"} <= tables
    applied = [r[0] for r in q("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [
        "0001_initial",
        "0002_fragments_relations_labels",
        "0003_fts_without_positions",
        "0004_reviewer_position",
        "0005_team",
        "0006_queue_index",
    ]
    store.close()
    # Reopening applies nothing twice.
    with Store(tmp_path / "reviewer.db") as again:
        count = again.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
        assert count == 6


def test_an_older_database_is_migrated_and_keeps_its_spans(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from reviewer.core.migrations import migrations

    db = tmp_path / "old.db"
    old = Database(db)
    migrations.apply(old, stop_before="0002_fragments_relations_labels")
    old.execute(
        "INSERT INTO reports (id, text, length, sha256, imported_at) "
        "VALUES ('r', 'Aspirin', 7, '', '')"
    )
    old.execute(
        "INSERT INTO spans (id, report_id, start_char, end_char, label, text, reviewer, "
        "created_at, updated_at) VALUES ('s', 'r', 0, 7, 'drug', 'Aspirin', 'al', 't', 't')"
    )
    old.close()
    with Store(db) as store:
        (span,) = store.spans()
        assert (span.text, span.fragments, span.refs, span.source_id) == ("Aspirin", (), [], "")
        # The trigram index was rebuilt without positions and still finds the old report.
        assert store.fts_report_ids("spiri") == ["r"]


def test_database_reads_in_the_sqlite3_shell(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.add_span(span(TEXT, "dupilumab", "drug"))
    store.close()
    plain = sqlite3.connect(tmp_path / "reviewer.db")
    row = plain.execute(
        "SELECT r.id, s.start_char, s.end_char, s.label, s.text, s.reviewer "
        "FROM spans s JOIN reports r ON r.id = s.report_id"
    ).fetchone()
    assert row == ("case", 52, 61, "drug", "dupilumab", "alice")


def test_add_update_delete_are_logged_with_before_and_after(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    added = store.add_span(span(TEXT, "facial erythema", "event")).changes[0].after
    assert added is not None and added.created_at
    store.update_span(added.id, "alice", start=added.start + 7, note="boundary")
    updated = store.get_span(added.id)
    assert updated is not None
    assert (updated.text, updated.note) == ("erythema", "boundary")
    store.delete_span(added.id, "alice")
    assert store.get_span(added.id) is None
    log = [(e["action"], e["before"] is None, e["after"] is None) for e in store.events()]
    assert log == [
        ("add_span", True, False),
        ("update_span", False, False),
        ("delete_span", False, True),
    ]
    kinds = [r[0] for r in store.conn.execute("SELECT kind FROM actions ORDER BY id")]
    assert kinds == ["import", "edit", "edit", "edit"]


def test_invalid_spans_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    with pytest.raises(ValidationError, match="not in the label schema"):
        store.add_span(span(TEXT, "dupilumab", "dose"))
    with pytest.raises(ValidationError, match="the text there is"):
        store.add_span(Span("case", 52, 61, "drug", "Dupilumab", "alice"))
    with pytest.raises(ValidationError, match="outside the text"):
        store.add_span(Span("case", 100, 200, "drug", "x", "alice"))
    with pytest.raises(ReviewerError, match="no report"):
        store.add_span(Span("nope", 0, 1, "drug", "A", "alice"))
    assert store.spans() == []
    assert store.events() == []


def test_a_reviewer_changes_only_their_own_spans(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    theirs = store.add_span(span(TEXT, "SLE", "diagnosis", reviewer="bob")).changes[0].after
    assert theirs is not None
    with pytest.raises(ReviewerError, match="belongs to bob"):
        store.delete_span(theirs.id, "alice")
    with pytest.raises(ReviewerError, match="belongs to bob"):
        store.update_span(theirs.id, "alice", label="event")
    assert store.get_span(theirs.id) == theirs


def test_the_log_is_append_only(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    store.add_span(span(TEXT, "ANA", "test"))
    for sql in (
        "UPDATE events SET reviewer = 'x'",
        "DELETE FROM events",
        "DELETE FROM actions",
        "UPDATE actions SET kind = 'edit'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.conn.execute(sql)


def test_undo_and_redo_survive_a_restart(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    drug = store.add_span(span(TEXT, "dupilumab", "drug")).changes[0].after
    assert drug is not None
    store.update_span(drug.id, "alice", label="event")
    store.delete_span(drug.id, "alice")
    store.close()

    store = Store(tmp_path / "reviewer.db")
    result = store.undo("alice")
    assert result is not None and result.kind == "undo"
    assert store.get_span(drug.id) is not None
    assert store.get_span(drug.id).label == "event"  # type: ignore[union-attr]
    store.undo("alice")
    assert store.get_span(drug.id).label == "drug"  # type: ignore[union-attr]
    store.close()

    store = Store(tmp_path / "reviewer.db")
    store.redo("alice")
    assert store.get_span(drug.id).label == "event"  # type: ignore[union-attr]
    store.undo("alice")
    store.undo("alice")  # the add itself
    assert store.spans() == []
    assert store.undo("alice") is None
    assert store.redo("alice") is not None
    assert [s.label for s in store.spans()] == ["drug"]


def test_a_new_edit_clears_redo_and_undo_is_per_reviewer(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    a = store.add_span(span(TEXT, "dupilumab", "drug")).changes[0].after
    b = store.add_span(span(TEXT, "SLE", "diagnosis", reviewer="bob")).changes[0].after
    assert a is not None and b is not None
    store.undo("alice")
    store.add_span(span(TEXT, "ANA", "test"))
    assert store.redo("alice") is None
    assert store.get_span(b.id) is not None  # alice's undo never touched bob's span
    store.undo("bob")
    assert store.get_span(b.id) is None
    assert [s.text for s in store.spans()] == ["ANA"]


def test_undo_refuses_when_the_span_changed_since(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    a = store.add_span(span(TEXT, "dupilumab", "drug")).changes[0].after
    assert a is not None
    # Someone changes the row behind the log's back (a merge, a hand edit in sqlite3).
    store.conn.execute("UPDATE spans SET note = 'changed' WHERE id = ?", (a.id,))
    with pytest.raises(ReviewerError, match="has changed since"):
        store.undo("alice")
    assert store.get_span(a.id).note == "changed"  # type: ignore[union-attr]


def test_status_and_time_spent(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.status("case", "alice").status is Status.TODO
    store.set_status("case", "alice", Status.IN_PROGRESS, add_seconds=30)
    store.set_status("case", "alice", Status.DONE, add_seconds=12.5)
    status = store.status("case", "alice")
    assert (status.status, status.seconds_spent) == (Status.DONE, 42.5)
    with pytest.raises(ReviewerError, match="reason"):
        store.set_status("case", "alice", Status.FLAGGED)
    store.set_status("case", "alice", Status.FLAGGED, reason="causality unclear")
    assert store.status("case", "alice").flag_reason == "causality unclear"
    assert store.statuses("alice") == {"case": Status.FLAGGED}
    assert store.stats()["status"] == {"alice": {"flagged": 1, "todo": 0}}


def test_time_spent_and_position_are_kept_per_reviewer(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.position("alice") is None
    store.save_position("alice", "case", 42)
    store.save_position("bob", "case", 7)
    store.save_position("alice", "case", 50)
    actions = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
    store.add_time("case", "alice", 12.5)
    store.add_time("case", "alice", float("nan"))  # ignored, like negative times
    store.add_time("case", "alice", -3)
    store.close()
    with Store(tmp_path / "reviewer.db") as again:
        assert again.position("alice") == ("case", 50)
        assert again.position("bob") == ("case", 7)
        status = again.status("case", "alice")
        assert (status.status, status.seconds_spent) == (Status.TODO, 12.5)
        # Time is not an action: nothing to undo, nothing in the log.
        assert again.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == actions


def test_fts_trigram_index_is_kept_current(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert store.fts_report_ids("erythema") == ["case"]
    assert store.fts_report_ids("ERYTHEMA") == ["case"]  # trigram matching folds case
    assert store.fts_report_ids("rituximab") == []
    other = tmp_path / "more" / "other.txt"
    other.parent.mkdir()
    other.write_text("Rituximab was started; erythema recurred.", encoding="utf-8")
    import_paths(store, [other.parent], reviewer="alice")
    assert store.fts_report_ids("erythema") == ["case", "other"]
    assert store.fts_report_ids("rituximab") == ["other"]
    integrity = store.conn.execute(
        "INSERT INTO reports_fts(reports_fts, rank) VALUES ('integrity-check', 1)"
    )
    assert integrity is not None  # raises on a corrupt or stale index


def test_a_bulk_import_indexes_its_text_and_leaves_the_trigger_in_place(tmp_path: Path) -> None:
    import json

    store = make_store(tmp_path)
    corpus = tmp_path / "bulk.jsonl"
    lines = [
        {"id": f"b{i:03d}", "text": f"Report {i:03d}: nivolumab then colitis."} for i in range(100)
    ]
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # A bulk import that fails is rolled back whole: no rows, no index entries, trigger kept.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(corpus.read_text(encoding="utf-8") + '{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(ReviewerError, match="bad.jsonl:101"):
        import_paths(store, [bad], reviewer="alice")
    assert store.fts_report_ids("nivolumab") == []
    import_paths(store, [corpus], reviewer="alice")
    assert store.fts_report_ids("nivolumab") == [f"b{i:03d}" for i in range(100)]
    assert store.fts_report_ids("report 042") == ["b042"]
    assert store.fts_report_ids("erythema") == ["case"]  # rows from before are still indexed
    triggers = {
        r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert "reports_fts_insert" in triggers
    # A single report afterwards goes through the trigger again.
    one = tmp_path / "one"
    one.mkdir()
    (one / "late.txt").write_text("Late report: vedolizumab.", encoding="utf-8")
    import_paths(store, [one], reviewer="alice")
    assert store.fts_report_ids("vedolizumab") == ["late"]
    store.conn.execute("INSERT INTO reports_fts(reports_fts, rank) VALUES ('integrity-check', 1)")


def test_text_search_folds_unicode_case_and_takes_wildcards_literally(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Érythème noted in 50% of a_b cases; µg", encoding="utf-8")
    (folder / "b.txt").write_text("érythème in 50 of axb cases; MG", encoding="utf-8")
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [folder], reviewer="alice")
    for query in ("érythème", "ÉRYTHÈME", "rythème", "RYTH", "CASES"):
        assert store.fts_report_ids(query) == ["a", "b"], query
    assert store.fts_report_ids("50%") == ["a"]  # % is a character, not "anything"
    assert store.fts_report_ids("a_b") == ["a"]  # _ is a character, not "any one"
    assert store.fts_report_ids("µg") == ["a"]  # short and non-ASCII: a scan
    assert store.fts_report_ids("xyz") == []


def test_open_errors_are_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not a database\n" * 100)
    with pytest.raises(ReviewerError, match="cannot open the database"):
        Store(bogus)


def test_several_spans_added_as_one_action_are_undone_together(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    spans = [span(TEXT, "erythema", "event", "carol"), span(TEXT, "dupilumab", "drug", "carol")]
    result = store.add_spans(spans, "carol")
    assert len(result.changes) == 2
    assert {s.text for s in store.spans("case", reviewer="carol")} == {"erythema", "dupilumab"}
    undone = store.undo("carol")
    assert undone is not None and len(undone.changes) == 2
    assert store.spans("case", reviewer="carol") == []
    store.redo("carol")
    assert len(store.spans("case", reviewer="carol")) == 2
    with pytest.raises(ReviewerError, match="alice's, not carol's"):
        store.add_spans([span(TEXT, "ANA", "test", "alice")], "carol")
    bad = Span("case", 0, 3, "drug", "xyz", "carol")
    with pytest.raises(ValidationError):
        store.add_spans([span(TEXT, "SLE", "diagnosis", "carol"), bad], "carol")
    assert len(store.spans("case", reviewer="carol")) == 2  # nothing of a refused batch kept


def test_the_page_cache_holds_a_large_import(tmp_path: Path) -> None:
    from reviewer.core.store import CACHE_KIB

    store = make_store(tmp_path)
    assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB


def test_spans_overlapping_each_place_in_document_order(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    facial = span(TEXT, "facial erythema", "event")
    erythema = span(TEXT, "erythema", "event", reviewer="bob")
    dupilumab = span(TEXT, "dupilumab", "drug")
    for s in (dupilumab, erythema, facial):  # written out of document order
        store.add_span(s)
    at = TEXT.index
    places = [
        ("case", at("erythema"), at("erythema") + 3),  # inside both event spans
        ("case", at("facial"), at("facial") + 1),  # the first character of the longer one
        ("case", at("after"), at("after") + 5),  # between the events and the drug
        ("case", at("dupilumab") - 6, at("dupilumab")),  # ends where the drug starts
        ("case", at("dupilumab") + 8, at("dupilumab") + 12),  # its last character and on
        ("other", 0, len(TEXT)),  # another report: nothing
    ]
    found = store.spans_overlapping(places)
    assert [[s.id for s in spans] for spans in found] == [
        [facial.id, erythema.id],
        [facial.id],
        [],
        [],  # end-exclusive: touching is not overlapping
        [dupilumab.id],
        [],
    ]
    assert found[4] == [store.get_span(dupilumab.id)]  # whole spans, as stored
    # More places than one query takes: the same answers, in the order asked, also where
    # SQLite binds at most 999 parameters to a query (before 3.32).
    store.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # (before any is prepared)
    many = places * 300
    assert store.spans_overlapping(many) == found * 300
    assert store.spans_overlapping([]) == []


def test_a_long_statement_stops_when_its_caller_cancels(tmp_path: Path) -> None:
    """interruptible: SQLite asks between steps of a statement (a sort before its first row
    comes), so a worker stops at once when the app closes, not after the statement."""
    store = make_store(tmp_path)
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) >= 3  # the third time it is asked

    with pytest.raises(Cancelled), store.interruptible(cancelled):
        store.conn.execute(slow + "SELECT i FROM n ORDER BY -i LIMIT 1").fetchone()
    assert len(asked) >= 3  # asked during the statement (no row had come yet)
    # The handler is gone: the same statement runs to its end, and so with a caller that
    # never cancels.
    assert store.conn.execute(slow + "SELECT count(*) FROM n").fetchone() == (3000000,)
    with store.interruptible(lambda: False):
        assert store.report_count() == 1
    with store.interruptible(None):
        assert store.report_count() == 1
    store.close()
