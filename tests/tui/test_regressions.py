"""Defects found by review, each with the keys that showed it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.model import ReviewerError
from reviewer.core.store import Store
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.dialogs import TextPrompt
from reviewer.tui.widgets.queue import ReportQueue
from reviewer.tui.widgets.span_list import SpanList


def make(tmp_path: Path, texts: dict[str, str]) -> Store:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [folder], reviewer="x")
    return store


async def test_find_selects_the_right_characters_after_a_sharp_s(tmp_path: Path) -> None:
    store = make(tmp_path, {"r": "Die Straße: aspirin again."})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("c", "ctrl+f", *"again", "enter", "2")
        (span,) = store.spans("r", reviewer="carol")
        assert span.text == "again"
        await pilot.press("ctrl+f", *"again.", "enter")  # the match at the very end
        assert app.is_running and app.review_screen.view.selected_range() == (20, 26)


async def test_a_click_picks_the_row_under_the_pointer(tmp_path: Path) -> None:
    store = make(tmp_path, {"a": "Aspirin first.", "b": "Bisoprolol second.", "c": "Third."})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(160, 40)) as pilot:
        queue = app.review_screen.query_one(ReportQueue)
        await pilot.click(ReportQueue, offset=(4, 2))  # inside the border: row 0, its second line
        await pilot.pause()
        assert app.review_screen.report.id == "a"
        await pilot.click(ReportQueue, offset=(4, 3))  # row 1, first line
        await pilot.pause()
        assert app.review_screen.report.id == "b" and queue.highlighted == 1
        await pilot.press("w", "1", "e", "l", "l", "w", "2")  # two spans in b
        spans = app.review_screen.query_one(SpanList)
        await pilot.click(SpanList, offset=(4, 1))  # the first span's row
        await pilot.pause()
        assert spans.highlighted == 0


async def test_the_palette_does_not_open_over_a_dialog(tmp_path: Path) -> None:
    store = make(tmp_path, {"a": "Aspirin first.", "b": "Bisoprolol second."})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, TextPrompt)  # the flag is still about report a
        await pilot.press(*"bad", "enter")
        assert store.status("a", "carol").flag_reason == "bad"
        assert store.status("b", "carol").flag_reason == ""


async def test_markup_typed_in_the_queue_filter_is_text(tmp_path: Path) -> None:
    store = make(tmp_path, {"a": "Aspirin first."})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("F", *"status:[/]")
        await pilot.pause()
        assert app.is_running
        title = str(app.review_screen.query_one(ReportQueue).border_title)
        assert "unknown status" in title and "[/]" in title  # shown, escaped, not parsed


def test_a_comma_label_key_is_one_clear_error(tmp_path: Path) -> None:
    store = make(tmp_path, {"a": "Aspirin first."})
    store.close()
    (tmp_path / "labels.toml").write_text(
        '[labels.dose]\nkey = ","\ncolor = "#d08770"\n', encoding="utf-8"
    )
    with Store(tmp_path / "reviewer.db") as again, pytest.raises(ReviewerError, match="','"):
        ReviewerApp(again, "carol")


async def test_a_punctuation_label_key_tags(tmp_path: Path) -> None:
    (tmp_path / "labels.toml").write_text(
        '[labels.dose]\nkey = "%"\ncolor = "#d08770"\n', encoding="utf-8"
    )
    store = make(tmp_path, {"a": "Aspirin 100 mg daily."})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("w", "percent_sign")
        (span,) = store.spans("a", reviewer="carol")
        assert (span.text, span.label) == ("100", "dose")


def test_a_label_with_control_characters_is_refused_at_import(tmp_path: Path) -> None:
    line = {
        "id": "r",
        "text": "Aspirin.",
        "spans": [{"start": 0, "end": 7, "label": "b\x1b]0;X\x07"}],
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with Store(tmp_path / "reviewer.db") as store:
        with pytest.raises(ReviewerError, match="control characters"):
            import_paths(store, [path], reviewer="x", new_labels=True)
        assert store.spans() == []


async def test_the_position_saved_on_opening_is_the_reports_own(tmp_path: Path) -> None:
    store = make(tmp_path, {"a": "Aspirin first. " * 40, "b": "Bisoprolol second. " * 40})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("G")  # the end of a
        app.review_screen.open_report("b", cursor=100)
        assert store.position("carol") == ("b", 100)
