"""Several processes, one database: the app shows what the others commit, without a restart.

Another process is played by a second ``Store`` on the same file (its own connection, as
another process has), by a second app, or by the ``reviewer`` command line in a subprocess.
Waits are bounded (a few seconds) and poll for the result: they check that it comes, not how
fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from reviewer.core.changes import Watcher
from reviewer.core.importer import import_paths
from reviewer.core.model import Span, Status
from reviewer.core.store import Store
from reviewer.core.team import CURATED, assign, create_session
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.search import SearchScreen
from reviewer.tui.widgets.queue import ReportQueue
from reviewer.tui.widgets.rows import ContentRows
from reviewer.tui.widgets.span_list import SpanList

from .test_bindings import R1, R2, R3, R4, RecordingApp, at

ME = "carol"
R5 = "Warfarin caused bleeding.\n"
SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"
WAIT = 5.0  # seconds: long enough on a slow machine; the app polls twice a second


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in (("r1", R1), ("r2", R2), ("r3", R3), ("r4", R4)):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    path = tmp_path / "reviewer.db"
    with Store(path) as store:
        import_paths(store, [folder], reviewer="x")
    yield path


@pytest.fixture
def other(db: Path) -> Iterator[Store]:
    """Another process's connection to the same database."""
    with Store(db) as store:
        yield store


async def eventually(pilot: Pilot, check: Callable[[], object], what: str) -> None:
    """Let the app run until ``check()`` holds, for at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {WAIT:.0f} s: {what}")
        await pilot.pause(0.05)


def screen_of(app: ReviewerApp):
    return app.review_screen


def row(app: ReviewerApp, report_id: str):
    screen = screen_of(app)
    return next(r for r in screen.rows if r.report_id == report_id)


def queue_ids(app: ReviewerApp) -> list[str]:
    return list(screen_of(app).query_one(ReportQueue).keys)


def shown(app: ReviewerApp) -> set[tuple[str, str, str]]:
    """The current report's spans on show as (text, label, reviewer)."""
    return {(s.text, s.label, s.reviewer) for s in screen_of(app).view.spans}


def status_line(app: ReviewerApp) -> str:
    return str(screen_of(app).query_one("#status", Static).render())


def searchable(app: ReviewerApp, text: str, reviewer: str) -> bool:
    index = app.span_index
    return index is not None and any(
        reviewer in hit.reviewers and hit.text == text for hit in index.search(text, 10)
    )


def span(report_id: str, text: str, word: str, label: str, reviewer: str) -> Span:
    start = text.index(word)
    return Span(report_id, start, start + len(word), label, word, reviewer)


def test_the_watcher_notices_other_connections_and_reads_what_they_changed(
    db: Path, other: Store, tmp_path: Path
) -> None:
    with Store(db) as store:
        watcher = Watcher(store)
        store.add_span(span("r1", R1, "Aspirin", "drug", ME))  # its own commit: no news
        assert not watcher.moved()
        other.add_span(span("r2", R2, "nausea", "event", "bob"))
        assert watcher.moved() and not watcher.moved()
        changes = watcher.read()
        # Both since the mark (applying its own again is harmless), in order.
        assert [(c.before, c.after.text) for c in changes.spans] == [  # type: ignore[union-attr]
            (None, "Aspirin"),
            (None, "nausea"),
        ]
        assert changes.span_reports == {"r1", "r2"} and not changes.unlogged
        assert not watcher.read()  # nothing new
        other.set_status("r3", "bob", Status.FLAGGED, reason="dose?")
        assert watcher.moved()
        assert watcher.read().statuses == {("r3", "bob"): Status.FLAGGED}
        (tmp_path / "r9.txt").write_text(R5, encoding="utf-8")
        import_paths(other, [tmp_path / "r9.txt"], reviewer="x")
        assert watcher.moved()
        changes = watcher.read()
        assert changes.new_reports == ("r9",) and changes.unlogged and not changes.team
        assign(other, [ME], 1, ["r1"])
        assert watcher.moved() and watcher.read().team


async def test_another_process_spans_statuses_and_imports_show_up(
    db: Path, other: Store, tmp_path: Path
) -> None:
    with Store(db) as store:
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            await app.workers.wait_for_complete()
            screen = screen_of(app)
            view = screen.view
            view.select_range(*at("ibuprofen"))  # the user's selection, kept through refreshes
            scroll = view.scroll_offset

            # Another window of carol's tags on the open report; bob tags there too.
            other.add_span(span("r1", R1, "Aspirin", "drug", ME))
            other.add_span(span("r1", R1, "Fever", "event", "bob"))
            other.add_span(span("r2", R2, "nausea", "event", ME))
            await eventually(pilot, lambda: ("Aspirin", "drug", ME) in shown(app), "own span")
            await eventually(pilot, lambda: row(app, "r2").counts == {"event": 1}, "r2 counts")
            assert row(app, "r1").counts == {"drug": 1}  # carol's own layer only
            assert ("Fever", "event", "bob") not in shown(app)  # others' are hidden by default
            assert view.selected_range() == at("ibuprofen") and view.scroll_offset == scroll
            await pilot.press("o")
            assert ("Fever", "event", "bob") in shown(app)
            assert row(app, "r1").counts == {"drug": 1, "event": 1}
            await pilot.press("o")

            # The search index follows.
            await eventually(pilot, lambda: searchable(app, "nausea", ME), "search index")

            # A status set elsewhere (another window of carol's).
            other.set_status("r3", ME, Status.DONE)
            await eventually(pilot, lambda: row(app, "r3").status is Status.DONE, "status")

            # An import from another process (the log does not list its spans): a new report,
            # and spans for one already there, with their counts and in the search index.
            lines = [
                {"id": "r2", "text": R2, "spans": [{"start": 0, "end": 12, "label": "drug"}]},
                {"id": "r5", "text": R5, "spans": [{"start": 0, "end": 8, "label": "drug"}]},
            ]
            jsonl = tmp_path / "more.jsonl"
            jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
            import_paths(other, [jsonl], reviewer=ME)
            await eventually(pilot, lambda: queue_ids(app)[-1:] == ["r5"], "imported report")
            await eventually(pilot, lambda: row(app, "r5").counts == {"drug": 1}, "its counts")
            await eventually(
                pilot, lambda: row(app, "r2").counts == {"drug": 1, "event": 1}, "r2's counts"
            )
            await eventually(pilot, lambda: searchable(app, "Warfarin", ME), "index rebuilt")
            assert searchable(app, "nausea", ME)
            assert screen.report is not None and screen.report.id == "r1"  # still here
            assert view.selected_range() == at("ibuprofen")
            assert "report 1/5" in status_line(app)

            # Search (through its screen) finds the span tagged elsewhere.
            await pilot.press("slash", *"nausea")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, SearchScreen)
            hits = app.screen.query_one("#hits", ContentRows)
            assert any("nausea" in hits.row_text(i) for i in range(len(hits.keys)))


async def test_another_process_deleting_my_span_repaints_the_report(db: Path, other: Store) -> None:
    with Store(db) as store:
        mine = store.add_span(span("r1", R1, "rash", "event", ME)).changes[0].after
        assert mine is not None
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            assert ("rash", "event", ME) in shown(app)
            other.update_span(mine.id, ME, label="diagnosis")
            await eventually(pilot, lambda: ("rash", "diagnosis", ME) in shown(app), "relabel")
            assert screen_of(app).query_one(SpanList).spans[0].label == "diagnosis"
            other.delete_span(mine.id, ME)
            await eventually(pilot, lambda: not shown(app), "deletion")
            await eventually(pilot, lambda: row(app, "r1").counts == {}, "counts")


async def test_a_refresh_keeps_the_cursor_and_the_scroll_positions(tmp_path: Path) -> None:
    path = tmp_path / "samples.db"
    with Store(path) as store, Store(path) as other:
        import_paths(store, [SAMPLES], reviewer="alice")
        app = RecordingApp(store, "alice")
        async with app.run_test(size=(160, 30)) as pilot:
            await app.workers.wait_for_complete()
            screen = screen_of(app)
            text = screen.view.text
            await pilot.press("o")  # every layer: 47 spans, more than the list holds
            await pilot.press("G", "k", "k", "shift+right")  # far down: the text has scrolled
            view = screen.view
            queue, spans = screen.query_one(ReportQueue), screen.query_one(SpanList)
            queue.scroll_end(animate=False, immediate=True)  # the reviewer looks further down
            spans.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            before = (view.scroll_offset, view.selection, view.cursor_location)
            lists = (queue.scroll_y, queue.highlighted_key, spans.scroll_y)
            assert view.scroll_offset.y > 0 and queue.scroll_y > 0 and spans.scroll_y > 0
            word = text.split()[0]
            other.add_span(span(screen.report.id, text, word, "event", "alice"))
            await eventually(pilot, lambda: (word, "event", "alice") in shown(app), "the span")
            (tmp_path / "late.txt").write_text(R1, encoding="utf-8")
            import_paths(other, [tmp_path / "late.txt"], reviewer="x")
            await eventually(pilot, lambda: "late" in queue_ids(app), "the import")
            await pilot.pause()
            assert (view.scroll_offset, view.selection, view.cursor_location) == before
            assert (queue.scroll_y, queue.highlighted_key, spans.scroll_y) == lists


async def test_reports_imported_into_an_empty_database_open(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    with Store(path) as store, Store(path) as other:
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            assert screen_of(app).report is None
            (tmp_path / "first.txt").write_text(R1, encoding="utf-8")
            import_paths(other, [tmp_path / "first.txt"], reviewer="x")
            await eventually(pilot, lambda: screen_of(app).report is not None, "the report")
            assert screen_of(app).view.text == R1
            assert screen_of(app).query_one(SpanList).display


async def test_two_apps_each_see_the_others_new_span(db: Path) -> None:
    with Store(db) as carol_store, Store(db) as bob_store:
        carol, bob = RecordingApp(carol_store, ME), RecordingApp(bob_store, "bob")
        async with carol.run_test(size=(120, 35)) as cp, bob.run_test(size=(120, 35)) as bp:
            await cp.press("o")  # carol shows the other layers
            await bp.press("o")
            screen_of(bob).view.place(R1.index("Lupus") + 1)
            await bp.press("4")  # bob tags Lupus
            await eventually(cp, lambda: ("Lupus", "diagnosis", "bob") in shown(carol), "bob's")
            screen_of(carol).view.place(R1.index("CRP") + 1)
            await cp.press("3")  # carol tags CRP
            await eventually(bp, lambda: ("CRP", "test", ME) in shown(bob), "carol's")
            assert row(carol, "r1").counts == {"diagnosis": 1, "test": 1}  # others shown
            await cp.press("o")
            assert row(carol, "r1").counts == {"test": 1}
            assert "others hidden" in status_line(carol)


async def test_a_subprocess_import_shows_up(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "late.txt").write_text("Metformin was started.\n", encoding="utf-8")
    with Store(db) as store:
        app = RecordingApp(store, ME)
        async with app.run_test(size=(120, 35)) as pilot:
            command = [sys.executable, "-c", "from reviewer.cli import main; main()"]
            command += ["--db", str(db), "import", str(folder)]
            done = subprocess.run(command, capture_output=True, text=True)
            assert done.returncode == 0 and "1 report" in done.stdout, done.stderr
            await eventually(pilot, lambda: "late" in queue_ids(app), "the imported report")
            await eventually(pilot, lambda: app.vocabulary is not None, "index")


# --- layers -------------------------------------------------------------------------------------


async def test_o_toggles_the_other_layers_read_only_with_the_curated_one(db: Path) -> None:
    with Store(db) as store:
        store.add_span(span("r1", R1, "Fever", "event", "bob"))
        store.add_span(span("r1", R1, "rash", "event", CURATED))
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            assert shown(app) == set() and "others hidden" in status_line(app)
            assert screen_of(app).query_one(SpanList).border_title == "Spans 0 yours"
            await pilot.press("o")
            assert shown(app) == {("Fever", "event", "bob"), ("rash", "event", CURATED)}
            assert "others shown" in status_line(app)
            screen_of(app).view.place(R1.index("rash") + 1)
            await pilot.press("x")  # read-only: nothing deleted
            assert app.said(f"That span is {CURATED}'s", "warning")
            assert len(store.spans("r1")) == 2
            await pilot.press("o")
            assert shown(app) == set()


# --- blind sessions ---------------------------------------------------------------------------


async def test_blind_session_hides_others_until_done(db: Path) -> None:
    with Store(db) as store:
        create_session(store, "s1", reviewers=[ME, "bob"], curator="dana", report_ids=["r1"])
        store.add_span(span("r1", R1, "Fever", "event", "bob"))
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = screen_of(app)
            assert screen.report is not None and screen.report.id == "r1"
            assert queue_ids(app) == ["r1"]  # the session assigned r1 to carol
            await pilot.press("o")
            assert app.said("blind session: others' spans show once you mark this report done")
            assert shown(app) == set() and "blind" in status_line(app)
            await pilot.press("d")  # done: nothing left to do, so it stays here
            assert screen.report.id == "r1"
            await pilot.press("o")
            assert ("Fever", "event", "bob") in shown(app)
            assert "others shown" in status_line(app)


async def test_blind_search_hides_others_spans(db: Path) -> None:
    with Store(db) as store:
        create_session(store, "s1", reviewers=[ME, "bob"], curator="dana", report_ids=["r1"])
        store.add_span(span("r1", R1, "Fever", "event", "bob"))
        store.add_span(span("r2", R2, "nausea", "event", "bob"))
        app = RecordingApp(store, ME)
        async with app.run_test(size=(120, 35)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.press("slash", *"label:event")
            await app.workers.wait_for_complete()
            await pilot.pause()
            hits = app.screen.query_one("#hits", ContentRows)
            texts = [hits.row_text(i) for i in range(len(hits.keys))]
            assert any("nausea" in t for t in texts)  # r2 is in no session
            assert not any("Fever" in t for t in texts)  # r1 is blind for carol
            await pilot.press("ctrl+t")  # the text: Fever is untagged
            query = app.screen.query_one("#query", Input)
            query.value = "Fever"
            await app.workers.wait_for_complete()
            await pilot.pause()
            texts = [hits.row_text(i) for i in range(len(hits.keys))]
            on_r1 = [t for t in texts if " r1 " in t]
            assert on_r1 and all("untagged" in t for t in on_r1), texts


async def test_a_blind_session_created_elsewhere_hides_what_was_shown(
    db: Path, other: Store
) -> None:
    with Store(db) as store:
        store.add_span(span("r1", R1, "Fever", "event", "bob"))
        app = RecordingApp(store, ME)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("o")
            assert ("Fever", "event", "bob") in shown(app)
            create_session(other, "s1", reviewers=[ME, "bob"], curator="dana", report_ids=["r1"])
            await eventually(pilot, lambda: not shown(app), "blind")
            assert "blind" in status_line(app)
            assert queue_ids(app) == ["r1"]  # and the queue is the assignment


# --- assigned queue ---------------------------------------------------------------------------


async def test_the_queue_holds_the_assigned_reports(db: Path, other: Store) -> None:
    with Store(db) as store:
        assign(store, [ME], 1, ["r2", "r4"])
        assign(store, ["bob"], 1, ["r1", "r3"])
        app = RecordingApp(store, ME)
        async with app.run_test(size=(120, 35)) as pilot:
            screen = screen_of(app)
            assert queue_ids(app) == ["r2", "r4"]
            assert screen.report is not None and screen.report.id == "r2"
            assert "report 1/2" in status_line(app)
            await pilot.press("n")
            assert screen.report.id == "r4" and "report 2/2" in status_line(app)
            await pilot.press("n")
            assert screen.report.id == "r4" and app.said("last report of the queue")
            await pilot.press("d")  # done; the next to do is r2
            assert screen.report.id == "r2"
            # Another process assigns r3 to carol: it joins the queue in import order.
            assign(other, [ME], 1, ["r3"])
            await eventually(pilot, lambda: queue_ids(app) == ["r2", "r3", "r4"], "assignment")
            assert screen.report.id == "r2" and "report 1/3" in status_line(app)
            await pilot.press("t")
            assert screen.report.id == "r3"
