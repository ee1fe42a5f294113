"""The app as a user drives it: Pilot presses keys, the tests read widgets and the database."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.store import Store
from reviewer.tui.app import ReviewerApp
from reviewer.tui.widgets.queue import ReportQueue
from reviewer.tui.widgets.report_view import ReportView
from reviewer.tui.widgets.span_list import SpanList

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"


@pytest.fixture
def sample_store(tmp_path: Path):
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [SAMPLES], reviewer="alice")
    yield store
    store.close()


def static_text(app: ReviewerApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_lists_reports_and_shows_the_first(sample_store: Store) -> None:
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        queue = app.screen.query_one(ReportQueue)
        assert len(queue.keys) == sample_store.report_count() == 13
        view = app.screen.query_one(ReportView)
        first = sample_store.report("case01")
        assert view.text == first.text
        # alice's own spans; the other reviewers' show with o
        mine = {s.id for s in sample_store.spans("case01", reviewer="alice")}
        assert mine and {s.id for s in view.spans} == mine
        assert first.title in static_text(app, "#meta")
        assert "report 1/13" in static_text(app, "#status")
        assert "others hidden" in static_text(app, "#status")
        assert view.read_only and view.has_focus
        await pilot.press("o")
        assert {s.id for s in view.spans} == {s.id for s in sample_store.spans("case01")} != mine
        assert "others shown" in static_text(app, "#status")


async def test_next_and_previous_report(sample_store: Store) -> None:
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = app.review_screen
        await pilot.press("n", "n")
        assert screen.report is not None and screen.report.id == "case03"
        assert "report 3/13" in static_text(app, "#status")
        await pilot.press("p")
        assert screen.report.id == "case02"
        assert screen.view.text == sample_store.report("case02").text
        await pilot.press("shift+tab")  # back to the queue: arrows move through it too
        await pilot.press("down")
        assert screen.report.id == "case03"


async def test_text_cannot_be_edited(sample_store: Store) -> None:
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(120, 35)) as pilot:
        before = app.review_screen.view.text
        await pilot.press("backspace", "enter", "ctrl+v", "ctrl+x", "ctrl+d")
        assert app.review_screen.view.text == before
        assert sample_store.report("case01").text == before


async def test_side_panes_follow_the_width_and_toggle(sample_store: Store) -> None:
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.review_screen
        queue, spans = screen.query_one("#queue-pane"), screen.query_one("#spans")
        assert not queue.display and not spans.display  # the text keeps the screen
        await pilot.press("Q")
        assert queue.display and screen.query_one(ReportQueue).has_focus
        await pilot.press("Q")
        assert not queue.display and screen.view.has_focus
        await pilot.press("L")
        assert spans.display
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        screen = app.review_screen
        assert screen.query_one("#queue-pane").display and screen.query_one("#spans").display


async def test_report_text_is_never_markup_and_controls_never_reach_the_terminal(
    tmp_path: Path,
) -> None:
    hostile = tmp_path / "in" / "hostile.txt"
    hostile.parent.mkdir()
    hostile.write_text(
        "Title: [@click=app.quit]x[/] and [bold]loud[/] [/]\n"
        "Journal: [$accent]J[/] \x1b[31mred\x1b[0m\n\n"
        "Text [@click=app.quit]click me[/] [bold]bold[/] [/] \x1b[2J cleared? \x07 bell\n",
        encoding="utf-8",
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [hostile.parent], reviewer="alice")
        report = store.report("hostile")
        assert "\x1b" not in report.text and "\x07" not in report.text
        assert "␛[2J" in report.text and "␇" in report.text
        app = ReviewerApp(store, "alice")
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            meta = static_text(app, "#meta")
            assert "[@click=app.quit]x[/] and [bold]loud[/] [/]" in meta
            assert "[$accent]J[/] ␛[31mred␛[0m" in meta
            assert app.screen.query_one(ReportView).text == report.text
            queue_row = app.screen.query_one(ReportQueue).row_text(0)
            assert "[@click=app.quit]x[/]" in queue_row
            # Clicking the would-be action in the title does nothing: the app still runs.
            await pilot.click("#meta", offset=(2, 0))
            await pilot.pause()
            assert app.is_running
            # Tag the would-be markup in the text: the span list, the status line and the
            # notifications show it literally, and nothing runs.
            screen = app.review_screen
            start = report.text.index("[@click=app.quit]click")
            screen.view.select_range(start, start + len("[@click=app.quit]click me[/]"))
            await pilot.press("c", "1")  # character precision: exactly as selected
            (span,) = store.spans("hostile")
            assert span.text == "[@click=app.quit]click me[/]"
            row = screen.query_one(SpanList).row_text(0)
            assert "[@click=app.quit]click me[/]" in row
            assert "[@click=app.quit]click" in static_text(app, "#status")
            await pilot.click("#status", offset=(60, 0))
            await pilot.click("#spans", offset=(14, 1))
            await pilot.pause()
            assert app.is_running


async def test_imported_types_are_summed_in_the_queue_and_fragments_painted(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r.txt").write_text("Aspirin for a rash on the arm.\n", encoding="utf-8")
    (folder / "r.ann").write_text(
        "T1\tdrug 0 7\tAspirin\nT2\tBody_part 26 29\tarm\nT3\tSign 14 18;26 29\trash arm\n",
        encoding="utf-8",
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [folder], reviewer="alice")
        app = ReviewerApp(store, "alice")
        async with app.run_test(size=(120, 30)) as pilot:
            await app.workers.wait_for_complete()  # span counts come from a worker
            await pilot.pause()
            row = app.screen.query_one(ReportQueue).row_text(0)
            assert "drug 1" in row and "other 2" in row and "Body_part" not in row
            line = app.screen.query_one(ReportView).get_line(0)
            styled = {(s.start, s.end) for s in line.spans}
            assert {(14, 18), (26, 29)} <= styled  # each fragment, not the gap between
            assert (14, 29) not in styled


async def test_a_label_key_the_screen_uses_is_refused_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reviewer.cli import cli

    labels = '[labels.dose]\nkey = "n"\ncolor = "#d08770"\n'
    (tmp_path / "labels.toml").write_text(labels, encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r.txt").write_text("Aspirin 100 mg.", encoding="utf-8")
    db = tmp_path / "reviewer.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "import", str(folder)]).exit_code == 0
    result = runner.invoke(cli, ["--db", str(db)])
    assert result.exit_code != 0
    assert "label 'dose' has the key 'n'" in result.output
    assert "next report" in result.output.lower()
    assert "Traceback" not in result.output


async def test_switching_reviewer_from_the_palette(sample_store: Store) -> None:
    """ctrl+p, "switch reviewer", a new name: the title bar and the status line say who is
    annotating, a label key tags as them, and switching back reopens where alice left off."""
    app = ReviewerApp(sample_store, "alice")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("n", "n")  # alice on the third report
        assert app.review_screen.report.id == "case03"
        assert "alice" in static_text(app, "TitleBar")
        await pilot.press("ctrl+p", *"switch reviewer")
        await pilot.pause(0.3)  # the palette searches in a worker
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+u", *"dana", "enter")  # the prompt holds "alice"
        await pilot.pause()
        assert app.reviewer == app.review_screen.reviewer == "dana"
        assert "dana" in static_text(app, "TitleBar") and "alice" not in static_text(
            app, "TitleBar"
        )
        assert static_text(app, "#status").startswith(" dana")
        first = app.review_screen.report.id  # dana has no place yet: the first report
        assert first == "case01"
        await pilot.press("w", "1")
        (span,) = sample_store.spans(first, reviewer="dana")
        assert span.label == "drug"
        await pilot.press("ctrl+p", *"switch reviewer")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+u", *"alice", "enter")
        await pilot.pause()
        assert app.review_screen.report.id == "case03"  # where alice left off
        assert "alice" in static_text(app, "TitleBar")


def test_the_collector_is_off_for_the_start_only(sample_store: Store) -> None:
    """run() turns the garbage collector off until the first screen is drawn, then on."""
    seen: list[bool] = []

    async def auto_pilot(pilot) -> None:
        seen.append(gc.isenabled())  # the app is up, its first screen not drawn yet
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        seen.append(gc.isenabled())
        pilot.app.exit()

    assert gc.isenabled()
    ReviewerApp(sample_store, "alice").run(headless=True, size=(80, 24), auto_pilot=auto_pilot)
    assert seen == [False, True] and gc.isenabled()
