"""Assignments, sessions, blind mode and who counts as having annotated a report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reviewer.core import team
from reviewer.core.model import Report, ReviewerError, Span, Status
from reviewer.core.store import Store

TEXT = "Dupilumab was started; facial erythema followed. ANA was positive."


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "reviewer.db") as s:
        with s.write():
            s.insert_reports([Report(id=f"r{i}", text=TEXT) for i in range(10)])
        yield s


def assignments(store: Store) -> set[tuple[str, str]]:
    return set(store.conn.execute("SELECT report_id, reviewer FROM assignments"))


def test_each_report_goes_to_n_reviewers_balanced(store: Store) -> None:
    summary = team.assign(store, ["a", "b", "c"], 2)
    rows = assignments(store)
    per_report = Counter(rid for rid, _ in rows)
    assert set(per_report.values()) == {2} and len(per_report) == 10
    load = Counter(reviewer for _, reviewer in rows)
    assert sorted(load) == ["a", "b", "c"] and max(load.values()) - min(load.values()) <= 1
    assert summary.added == 20 and summary.per_reviewer == load


def test_assigning_again_adds_nothing_and_tops_up(store: Store) -> None:
    team.assign(store, ["a", "b"], 1, ["r0", "r1"])
    first = assignments(store)
    again = team.assign(store, ["a", "b"], 1, ["r0", "r1"])
    assert assignments(store) == first and again.added == 0 and again.already == 2
    more = team.assign(store, ["a", "b"], 2, ["r0", "r1"])  # now both on each
    assert more.added == 2
    assert assignments(store) == {(r, n) for r in ("r0", "r1") for n in ("a", "b")}


def test_bad_assignments_are_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(ReviewerError, match="between 1 and the number of reviewers"):
        team.assign(store, ["a", "b"], 3)
    with pytest.raises(ReviewerError, match="no report with id 'nope'"):
        team.assign(store, ["a", "b"], 1, ["r0", "nope"])
    with pytest.raises(ReviewerError, match="kept for layers"):
        team.assign(store, ["a", "@curated"], 1)
    assert assignments(store) == set()


def test_a_reviewer_with_assignments_has_a_queue_of_them(store: Store) -> None:
    team.assign(store, ["a", "b"], 1, ["r3", "r4"])
    assert team.assigned_report_ids(store, "a") | team.assigned_report_ids(store, "b") == {
        "r3",
        "r4",
    }
    assert team.assigned_report_ids(store, "zoe") is None  # no assignments: every report


def test_a_session_keeps_its_reports_reviewers_and_curator(store: Store) -> None:
    session, summary = team.create_session(
        store, "pilot", reviewers=["a", "b"], curator="c", report_ids=["r2", "r1"]
    )
    assert session.report_ids == ("r1", "r2")  # import order
    assert session.reviewers == ("a", "b") and session.curator == "c" and session.blind
    assert summary.added == 4  # without --per-report every reviewer gets every report
    assert team.session_names(store) == ["pilot"]
    with pytest.raises(ReviewerError, match="already a session named 'pilot'"):
        team.create_session(store, "pilot", reviewers=["a", "b"], curator="c")
    with pytest.raises(ReviewerError, match="at least two reviewers"):
        team.create_session(store, "solo", reviewers=["a"], curator="c")
    with pytest.raises(ReviewerError, match="no session named 'x' \\(sessions: pilot\\)"):
        team.get_session(store, "x")


def test_blind_hides_others_until_the_reviewer_marks_the_report_done(store: Store) -> None:
    team.create_session(store, "s", reviewers=["a", "b"], curator="c", report_ids=["r0", "r1"])
    team.create_session(
        store, "open", reviewers=["a", "b"], curator="c", report_ids=["r2"], blind=False
    )
    assert team.blind_report_ids(store, "a") == {"r0", "r1"}
    store.set_status("r0", "a", Status.DONE)
    assert team.blind_report_ids(store, "a") == {"r1"}
    assert team.blind_report_ids(store, "b") == {"r0", "r1"}  # b has not finished r0
    assert team.blind_report_ids(store, "c") == set()  # the curator sees everything


def test_annotated_means_done_or_tagged(store: Store) -> None:
    store.add_span(Span("r0", 0, 9, "drug", "Dupilumab", "a"))
    store.set_status("r1", "b", Status.DONE)  # found nothing: counts
    store.set_status("r2", "b", Status.IN_PROGRESS)  # started, nothing tagged: does not
    assert team.annotated(store) == {"r0": {"a"}, "r1": {"b"}}
    layers = team.report_layers(store, ["r0", "r1"])
    assert [(i.report_id, i.layers) for i in layers] == [
        ("r0", {"a": [(0, 9, "drug")]}),
        ("r1", {"b": []}),
    ]


def test_session_progress_counts_statuses_and_time(store: Store) -> None:
    session, _ = team.create_session(
        store, "s", reviewers=["a", "b"], curator="c", report_ids=["r0", "r1", "r2"]
    )
    store.set_status("r0", "a", Status.DONE, add_seconds=90)
    store.set_status("r1", "a", Status.FLAGGED, reason="unclear", add_seconds=30)
    store.set_status("r5", "a", Status.DONE, add_seconds=600)  # outside the session
    progress = team.session_progress(store, session)
    assert progress["reviewers"]["a"] == {
        "assigned": 3,
        "todo": 1,
        "in_progress": 0,
        "done": 1,
        "flagged": 1,
        "seconds_spent": 120.0,
    }
    assert progress["reviewers"]["b"]["todo"] == 3
