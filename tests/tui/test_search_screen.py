"""The search screen as a user drives it: type, read the results, open a hit, tag from search."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.store import Store
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.search import SearchScreen
from reviewer.tui.widgets.rows import ContentRows

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"


@pytest.fixture
def store(tmp_path: Path):
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [SAMPLES], reviewer="alice")
    yield store
    store.close()


async def search(app: ReviewerApp, pilot, query: str) -> SearchScreen:
    await app.workers.wait_for_complete()  # the index is built once, in a worker
    if not isinstance(app.screen, SearchScreen):
        await pilot.press("slash")
    await pilot.press(*query)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, SearchScreen)
    return app.screen


def rows(screen: SearchScreen, which: str) -> list[str]:
    widget = screen.query_one(which, ContentRows)
    return [widget.row_text(i) for i in range(len(widget.keys))]


async def test_a_typo_finds_the_span_and_enter_opens_it_selected(store: Store) -> None:
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await search(app, pilot, "dupilumb")
        first = rows(screen, "#hits")[0]
        assert "Dupilumab" in first and "drug" in first and "alice, bob" in first
        occurrences = rows(screen, "#occurrences")
        assert occurrences and all("case01" in row for row in occurrences)
        await pilot.press("down", "enter", "enter")  # results, the group, its first occurrence
        await pilot.pause()
        review = app.review_screen
        assert app.screen is review and review.report is not None
        start, end = review.view.selected_range()  # type: ignore[misc]
        assert review.report.text[start:end].casefold() == "dupilumab"
        await pilot.press("slash")  # back to the search as it was
        assert app.screen is screen
        assert screen.query_one("#query").value == "dupilumb"  # type: ignore[attr-defined]
        assert rows(screen, "#hits")[0] == first


async def test_filters_narrow_and_a_bad_filter_is_said(store: Store) -> None:
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await search(app, pilot, "label:test cr")
        hits = rows(screen, "#hits")
        assert hits and all("test" in row and "drug" not in row for row in hits)
        await pilot.press(*" bogus:x")
        await pilot.pause()
        said = str(screen.query_one("#search-status").render())
        assert "unknown filter 'bogus'" in said
        assert app.is_running


async def test_tagging_every_untagged_place_from_text_search_is_one_undo(store: Store) -> None:
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await search(app, pilot, "lupus")
        await pilot.press("ctrl+t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        exact = [h for h in screen.text_hits if h.score == 100]
        places = len(exact)
        assert places > 1 and all(h.text.casefold() == "lupus" for h in exact)
        await pilot.press("down", "ctrl+a", "4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        mine = store.spans(reviewer="carol")
        assert len(mine) == places
        assert all(s.label == "diagnosis" and s.text.casefold() == "lupus" for s in mine)
        marked = rows(screen, "#hits")
        assert sum("✓ yours" in row for row in marked) == places  # typo neighbours left alone
        review = app.review_screen  # the open report's spans follow, without a read
        assert review.all_spans == store.spans(review.report.id)
        assert any(s.reviewer == "carol" for s in review.all_spans)
        await pilot.press("escape", "u")  # one undo on the review screen takes them all back
        await pilot.pause()
        assert store.spans(reviewer="carol") == []
        assert review.all_spans == store.spans(review.report.id)
        # The index followed: the spans are gone from span search too.
        assert not [h for h in app.span_index.search("lupus", 50) if "carol" in h.reviewers]


async def test_report_text_in_results_is_never_markup(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r.txt").write_text(
        "Before [@click=app.quit]dupilumab[/] [bold]after", encoding="utf-8"
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [folder], reviewer="alice")
        app = ReviewerApp(store, "carol")
        async with app.run_test(size=(120, 35)) as pilot:
            screen = await search(app, pilot, "dupilumab")
            await pilot.press("ctrl+t")
            await app.workers.wait_for_complete()
            await pilot.pause()
            (row,) = rows(screen, "#hits")
            assert "=app.quit]dupilumab[/] [bold]after" in row  # literally, not as markup
            await pilot.click("#hits", offset=(40, 0))
            await pilot.pause()
            assert app.is_running
