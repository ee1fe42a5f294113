"""``reviewer merge OTHER.db``: work done apart comes together, by span id, idempotently, and
nothing disappears silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewer.core import curation, team
from reviewer.core.merge import merge
from reviewer.core.model import Report, ReviewerError, Span, Status
from reviewer.core.store import Store

TEXT = "Dupilumab was started; facial erythema followed. ANA was positive."


def at(phrase: str, label: str, reviewer: str) -> Span:
    start = TEXT.index(phrase)
    return Span("r", start, start + len(phrase), label, phrase, reviewer)


@pytest.fixture
def pair(tmp_path: Path):
    """Two copies of one database, as a team member would take one away on a laptop."""
    with Store(tmp_path / "ours.db") as s:
        with s.write():
            s.insert_reports([Report(id="r", text=TEXT)])
        s.add_span(at("Dupilumab", "drug", "alice"))
        s.add_span(at("ANA", "test", "alice"))
    shutil.copy(tmp_path / "ours.db", tmp_path / "theirs.db")
    with Store(tmp_path / "ours.db") as ours, Store(tmp_path / "theirs.db") as theirs:
        yield ours, theirs, tmp_path / "theirs.db"


def rows(store: Store) -> set[tuple]:
    return {(s.id, s.start, s.end, s.label, s.reviewer, s.note) for s in store.spans()}


def test_their_new_reports_spans_and_statuses_arrive_and_twice_changes_nothing(pair) -> None:
    ours, theirs, path = pair
    with theirs.write():
        theirs.insert_reports([Report(id="r2", text="Aspirin was given.")])
    theirs.add_span(at("facial erythema", "event", "bob"))
    theirs.add_span(Span("r2", 0, 7, "drug", "Aspirin", "bob"))
    theirs.set_status("r", "bob", Status.DONE)
    summary = merge(ours, path, "alice")
    assert (summary.reports, summary.spans_added, summary.statuses) == (1, 2, 1)
    assert rows(ours) == rows(theirs)
    assert ours.status("r", "bob").status is Status.DONE
    events = len(ours.events())
    again = merge(ours, path, "alice")
    assert (again.reports, again.spans_added, again.spans_updated, again.statuses) == (0, 0, 0, 0)
    assert again.conflicts == [] and len(ours.events()) == events


def test_the_later_change_wins_and_the_other_is_kept_in_the_log(pair) -> None:
    ours, theirs, path = pair
    sid = next(s.id for s in ours.spans() if s.text == "ANA")
    ours.update_span(sid, "alice", note="ours, earlier")
    theirs.update_span(sid, "alice", note="theirs, later")
    summary = merge(ours, path, "alice")
    assert ours.get_span(sid).note == "theirs, later"
    (conflict,) = summary.conflicts
    assert "kept theirs (later)" in conflict and sid in conflict
    assert "note ('ours, earlier' here, 'theirs, later' there)" in conflict
    last = ours.events()[-1]
    assert last["action"] == "update_span" and "ours, earlier" in last["before"]
    # And the other way round: ours changed later, theirs stays in the log.
    theirs.update_span(sid, "alice", note="theirs again")
    ours.update_span(sid, "alice", note="ours, latest")
    summary = merge(ours, path, "alice")
    assert ours.get_span(sid).note == "ours, latest"
    assert "kept ours (later)" in summary.conflicts[0]
    assert "theirs again" in ours.events()[-1]["before"]


def test_a_deletion_against_an_edit_is_decided_by_time_and_listed(pair) -> None:
    ours, theirs, path = pair
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    dup = next(s.id for s in ours.spans() if s.text == "Dupilumab")
    ours.update_span(ana, "alice", note="checked")
    theirs.delete_span(ana, "alice")  # later: deleted here too
    theirs.delete_span(dup, "alice")  # untouched here: simply deleted
    summary = merge(ours, path, "alice")
    assert ours.get_span(ana) is None and ours.get_span(dup) is None
    assert summary.spans_deleted == 2
    assert any("edited here, deleted there later" in c for c in summary.conflicts)
    assert merge(ours, path, "alice").spans_deleted == 0  # idempotent


def test_an_edit_there_after_our_deletion_brings_the_span_back_and_says_so(pair) -> None:
    ours, theirs, path = pair
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    ours.delete_span(ana, "alice")
    theirs.update_span(ana, "alice", label="diagnosis")
    summary = merge(ours, path, "alice")
    assert ours.get_span(ana).label == "diagnosis"
    assert any("deleted here, edited there later" in c for c in summary.conflicts)


def test_a_report_with_another_text_stops_the_merge_and_nothing_is_written(
    pair, tmp_path: Path
) -> None:
    ours, theirs, path = pair
    with Store(tmp_path / "odd.db") as odd, odd.write():
        odd.insert_reports([Report(id="r", text="Another text."), Report(id="x", text="X.")])
    before = rows(ours)
    with pytest.raises(ReviewerError, match="report id 'r' has another text"):
        merge(ours, tmp_path / "odd.db", "alice")
    assert rows(ours) == before and ours.report_ids() == ["r"]


def test_sessions_assignments_and_curation_come_along(pair) -> None:
    ours, theirs, path = pair
    theirs.add_span(at("Dupilumab", "drug", "bob"))
    team.create_session(theirs, "s", reviewers=["alice", "bob"], curator="carol")
    curation.auto_accept(theirs, "r", "carol")
    merge(ours, path, "alice")
    assert team.session_names(ours) == ["s"]
    assert team.assigned_report_ids(ours, "bob") == {"r"}
    (gold,) = ours.spans("r", reviewer=team.CURATED)
    assert curation.provenance(ours, gold.id)["curator"] == "carol"
    assert merge(ours, path, "alice").rows == 0


def test_what_is_not_a_reviewer_database_is_refused(pair, tmp_path: Path) -> None:
    ours, _, _ = pair
    (tmp_path / "junk.db").write_bytes(b"not a database at all, just bytes" * 10)
    with pytest.raises(ReviewerError, match="junk.db: not a reviewer database"):
        merge(ours, tmp_path / "junk.db", "alice")
    with pytest.raises(ReviewerError, match="no such database file"):
        merge(ours, tmp_path / "missing.db", "alice")
    with pytest.raises(ReviewerError, match="that is this database"):
        merge(ours, ours.path, "alice")


def test_a_span_changed_on_one_side_only_is_no_conflict(pair) -> None:
    ours, theirs, path = pair
    dup = next(s.id for s in ours.spans() if s.text == "Dupilumab")
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    ours.update_span(dup, "alice", note="checked here")
    theirs.update_span(ana, "alice", label="diagnosis")
    summary = merge(ours, path, "alice")
    assert summary.conflicts == []
    assert ours.get_span(dup).note == "checked here"  # ours stays: theirs is where it came from
    assert ours.get_span(ana).label == "diagnosis"  # theirs comes: ours is where it came from
    assert (summary.spans_updated, summary.spans_same) == (1, 1)


def test_a_conflict_is_listed_once_not_on_every_merge(pair) -> None:
    ours, theirs, path = pair
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    theirs.update_span(ana, "alice", note="theirs, earlier")
    ours.update_span(ana, "alice", note="ours, later")
    assert len(merge(ours, path, "alice").conflicts) == 1
    assert merge(ours, path, "alice").conflicts == []
    assert ours.get_span(ana).note == "ours, later"


def test_a_change_made_and_then_undone_elsewhere_is_not_lost(pair) -> None:
    """A sets negated, B takes it in and takes it off later: B's later edit wins both ways,
    and the two databases end equal (a version seen before is not always the older one)."""
    ours, theirs, path = pair
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    ours.update_span(ana, "alice", attributes={"negated": True})
    merge(theirs, ours.path, "bob")
    assert theirs.get_span(ana).attributes == {"negated": True}
    theirs.update_span(ana, "alice", attributes={})
    summary = merge(ours, path, "alice")
    assert ours.get_span(ana).attributes == {} and summary.conflicts == []
    assert merge(theirs, ours.path, "bob").conflicts == []
    assert theirs.get_span(ana).attributes == {} == ours.get_span(ana).attributes


def test_a_span_deleted_here_stays_deleted_when_the_other_side_only_imported_it(
    pair, tmp_path: Path
) -> None:
    ours, theirs, path = pair
    ana = next(s.id for s in ours.spans() if s.text == "ANA")
    ours.delete_span(ana, "alice")
    summary = merge(ours, path, "alice")
    assert ours.get_span(ana) is None and summary.conflicts == []
    # and the other way round: their deletion of a span untouched here takes it away
    theirs.delete_span(next(s.id for s in theirs.spans() if s.text == "Dupilumab"), "alice")
    assert merge(ours, path, "alice").spans_deleted == 1


def test_brat_lines_kept_aside_come_along(tmp_path: Path) -> None:
    from reviewer.core.importer import import_paths

    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "d.txt").write_text("Aspirin caused rash.", encoding="utf-8")
    (folder / "d.ann").write_text(
        "T1\tdrug 0 7\tAspirin\nT2\tevent 15 19\trash\nE1\tevent:T2 Cause:T1\n", encoding="utf-8"
    )
    with Store(tmp_path / "other.db") as other:
        import_paths(other, [folder], reviewer="alice")
        kept = other.kept_lines("d", "brat")
    assert kept
    with Store(tmp_path / "ours.db") as ours:
        merge(ours, tmp_path / "other.db", "alice")
        assert ours.kept_lines("d", "brat") == kept


def test_another_session_of_the_same_name_or_a_name_with_escapes_stops_the_merge(
    pair, tmp_path: Path
) -> None:
    ours, theirs, path = pair
    theirs.add_span(at("Dupilumab", "drug", "bob"))
    team.create_session(ours, "s", reviewers=["alice", "bob"], curator="carol")
    team.create_session(theirs, "s", reviewers=["alice", "bob"], curator="dan")
    with pytest.raises(ReviewerError, match="session 's' is another session"):
        merge(ours, path, "alice")
    assert len(ours.spans()) == 2  # nothing of theirs came in
    with theirs.write():
        theirs.conn.execute("UPDATE sessions SET curator = 'carol' WHERE name = 's'")
        theirs.conn.execute(
            "UPDATE spans SET reviewer = 'x\x1b]0;PWNED\x07' WHERE reviewer = 'bob'"
        )
    with pytest.raises(ReviewerError, match="control characters"):
        merge(ours, path, "alice")
