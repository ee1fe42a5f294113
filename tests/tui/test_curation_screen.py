"""The curation screen, key by key: agreed spans accepted on opening, each disagreement
decided by a digit, `r` or an edit, `u` undoing, `N` to the next report, and the database rows
after each."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static

from reviewer.core import curation
from reviewer.core.model import Report, Span
from reviewer.core.store import Store
from reviewer.core.team import CURATED
from reviewer.tui.screens.curation import CurationScreen
from reviewer.tui.widgets.report_view import ReportView

T1 = "Dupilumab was started; facial erythema followed. ANA was positive in serum.\n"
T2 = "Aspirin was given for fever.\n"


def at(text: str, phrase: str, label: str, reviewer: str, report: str = "r1") -> Span:
    start = text.index(phrase)
    return Span(report, start, start + len(phrase), label, phrase, reviewer)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "reviewer.db") as s:
        with s.write():
            s.insert_reports([Report(id="r1", text=T1), Report(id="r2", text=T2)])
        for span in [
            at(T1, "Dupilumab", "drug", "alice"),
            at(T1, "Dupilumab", "drug", "bob"),  # agreed
            at(T1, "facial erythema", "event", "alice"),
            at(T1, "erythema", "event", "bob"),  # boundaries differ
            at(T1, "ANA", "test", "alice"),
            at(T1, "ANA", "diagnosis", "bob"),  # labels differ
            at(T2, "Aspirin", "drug", "alice", "r2"),  # only alice
        ]:
            s.add_span(span)
        yield s


class Host(App):
    CSS_PATH = Path(__file__).resolve().parents[2] / "reviewer" / "tui" / "app.tcss"

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        self.push_screen(CurationScreen(self.store, "carol", ["r1", "r2"], ["alice", "bob"]))


def gold(store: Store, report: str = "r1") -> list[tuple[str, str]]:
    return sorted((s.text, s.label) for s in store.spans(report, reviewer=CURATED))


async def test_a_report_is_curated_from_agreement_to_gold(store: Store) -> None:
    app = Host(store)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CurationScreen)
        assert gold(store) == [("Dupilumab", "drug")]  # accepted on opening
        versions = str(screen.query_one("#versions", Static).render())
        assert "boundaries differ" in versions and "alice" in versions and "bob" in versions
        view = screen.query_one(ReportView)
        start = T1.index("facial")
        assert view.selected_range() == (start, start + len("facial erythema"))
        await pilot.press("2")  # bob's "erythema"
        await pilot.pause()
        assert gold(store) == [("Dupilumab", "drug"), ("erythema", "event")]
        assert "labels differ" in str(screen.query_one("#versions", Static).render())
        await pilot.press("u")  # undo: the boundary disagreement is open again
        await pilot.pause()
        assert gold(store) == [("Dupilumab", "drug")]
        await pilot.press("1")  # this time alice's
        await pilot.pause()
        assert ("facial erythema", "event") in gold(store)
        # ANA: the curator's own decision, test, through edit mode (the word under the cursor)
        await pilot.press("E")
        view.place(T1.index("ANA") + 1)
        await pilot.press("3")  # label key 3: test
        await pilot.pause()
        assert ("ANA", "test") in gold(store)
        assert curation.open_reports(store, ["r1"], ["alice", "bob"]) == {}
        status = str(screen.query_one("#status", Static).render())
        assert "0 open here" in status and "curated test" in status
        await pilot.press("N")  # the next report with a disagreement
        await pilot.pause()
        assert screen.report_id == "r2"
        await pilot.press("r")  # Aspirin: not gold
        await pilot.pause()
        assert gold(store, "r2") == []
        assert curation.open_reports(store, ["r2"], ["alice", "bob"]) == {}
        assert store.undo_stacks("carol")[0]  # the curator's actions are undoable


async def test_with_auto_accept_off_agreed_spans_wait(store: Store) -> None:
    app = Host(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        store.undo("carol")  # the accept made on opening
        await pilot.press("T", "N", "P")
        await pilot.pause()
        assert gold(store) == []
        await pilot.press("A")
        await pilot.pause()
        assert gold(store) == [("Dupilumab", "drug")]


async def test_report_text_in_the_panel_is_never_markup(tmp_path: Path) -> None:
    text = "[@click=app.quit]x[/] and [bold]ANA[/] \x1b[31m here.\n"
    with Store(tmp_path / "m.db") as store:
        with store.write():
            store.insert_reports([Report(id="m", text=text)])
        store.add_span(at(text, "[@click=app.quit]x[/]", "drug", "alice", "m"))
        store.add_span(at(text, "[bold]ANA[/]", "test", "bob", "m"))
        app = App()
        async with app.run_test(size=(120, 30)) as pilot:
            app.push_screen(CurationScreen(store, "carol", ["m"], ["alice", "bob"]))
            await pilot.pause()
            panel = str(app.screen.query_one("#versions", Static).render())
            assert "[@click=app.quit]x[/]" in panel
            await pilot.press("n")
            await pilot.pause()
            panel = str(app.screen.query_one("#versions", Static).render())
            assert "[bold]ANA[/]" in panel and "\x1b" not in panel
            assert app.is_running


async def test_the_palette_opens_a_session_for_its_curator_only(store: Store) -> None:
    from reviewer.core import team
    from tests.tui.test_bindings import RecordingApp

    team.create_session(store, "pilot", reviewers=["alice", "bob"], curator="carol")
    app = RecordingApp(store, "dan")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.open_curation("pilot")
        await pilot.pause()
        assert not isinstance(app.screen, CurationScreen)
        assert app.said("carol curates session pilot", "warning")
    app = RecordingApp(store, "carol")
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(100):  # the index first: what curation adds must reach it afterwards
            if app.span_index is not None:
                break
            await pilot.pause(0.05)
        assert not app.span_index.search(f"Dupilumab reviewer:{CURATED}")
        app.open_curation("pilot")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CurationScreen) and screen.report_ids == ["r1", "r2"]
        assert gold(store) == [("Dupilumab", "drug")]
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is app.review_screen
        # what the curation did reached the search index as well
        (hit,) = app.span_index.search(f"Dupilumab reviewer:{CURATED}")
        assert hit.count == 1


async def test_the_agreement_screen_shows_the_figures(store: Store) -> None:
    from reviewer.tui.screens.agreement import AgreementScreen
    from tests.tui.test_bindings import RecordingApp

    app = RecordingApp(store, "carol")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.open_agreement()
        for _ in range(50):
            await pilot.pause(0.05)
            text = str(app.screen.query_one("#figures", Static).render())
            if "Cohen" in text:
                break
        assert isinstance(app.screen, AgreementScreen)
        assert "alice" in text and "bob" in text and "exact F1" in text
        await pilot.press("q")
        assert app.screen is app.review_screen


async def test_curate_all_leaves_out_the_reports_of_others_sessions(store: Store) -> None:
    from reviewer.core import team
    from tests.tui.test_bindings import RecordingApp

    team.create_session(
        store, "pilot", reviewers=["alice", "bob"], curator="carol", report_ids=["r1"]
    )
    app = RecordingApp(store, "alice")  # a reviewer of the blind session
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.open_curation()
        await pilot.pause()
        assert not isinstance(app.screen, CurationScreen)  # r2 has one reviewer only
        assert app.said("Nothing to curate")
    assert gold(store) == []


async def test_u_takes_back_only_this_visits_decisions(store: Store) -> None:
    """The curator's own reviewing elsewhere is not undone from the curation screen."""
    store.add_span(at(T2, "fever", "event", "carol", "r2"))
    app = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(CurationScreen(store, "carol", ["r1"], ["alice", "bob"]))
        await pilot.pause()
        assert gold(store) == [("Dupilumab", "drug")]
        await pilot.press("r")  # reject the boundary disagreement
        await pilot.press("u", "u")  # the rejection, then the agreed spans accepted on opening
        await pilot.pause()
        assert gold(store) == []
        await pilot.press("u")  # nothing more of this visit: carol's own span stays
        await pilot.pause()
        assert app.is_running
        assert [s.text for s in store.spans("r2", reviewer="carol")] == ["fever"]
        assert "no decision of this visit" in str(app.screen.query_one("#status", Static).render())


async def test_a_blind_reviewer_sees_no_one_elses_spans_in_exports_or_figures(
    store: Store, tmp_path: Path
) -> None:
    import json

    from reviewer.core import team
    from reviewer.tui.screens.agreement import AgreementScreen
    from tests.tui.test_bindings import RecordingApp

    team.create_session(store, "pilot", reviewers=["alice", "bob"], curator="carol")
    app = RecordingApp(store, "alice")
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        app.export("jsonl")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.said("Exported"):
                break
        assert app.said("of alice's spans")
        (path,) = (store.workspace / "exports").glob("jsonl-*.jsonl")
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        assert {s["reviewer"] for line in lines for s in line["spans"]} == {"alice"}
        app.open_agreement("pilot")
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        assert app.screen.report_ids == []  # both reports are blind for alice: none counted
        assert app.said("left out of the figures")


def test_the_curator_is_not_one_of_the_reviewers(store: Store) -> None:
    from reviewer.core import team
    from reviewer.core.model import ReviewerError

    with pytest.raises(ReviewerError, match="cannot both review and curate"):
        team.create_session(store, "s", reviewers=["alice", "bob"], curator="bob")
