"""The report view draws its rows itself (``ReportView._render_line``), cutting each paragraph
into wrapped rows once per paint. Here every row it draws is held to what ``TextArea`` itself
draws from the same painted lines: the same characters in the same styles, with the cursor,
selections, matching brackets, jump hints, other reviewers' spans, wide characters, tabs and
empty lines, scrolled and not, at two widths. And a change repaints only its rows, and the
spans the screen holds after a change (applied, not read again) are what the store holds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from textual.document._wrapped_document import WrappedDocument
from textual.geometry import Offset
from textual.strip import Strip
from textual.widgets import TextArea

from reviewer.core.model import Span
from reviewer.core.store import Store
from reviewer.tui import app as app_module
from reviewer.tui.app import ReviewerApp
from tests.tui.test_regressions import make

LONG = " ".join(f"word{i} (dose {i} mg)" for i in range(60))
TEXT = (
    "Rash after dupilumab (a biologic) in 漢字 patient.\n"
    "\n"
    f"{LONG}.\n"
    "\n"
    "Tab\tseparated\tline with aspirin.\n"
    "Last line, ending [here]"
)


def cells(strip: Strip) -> list[tuple[str, object]]:
    return [(ch, segment.style) for segment in strip for ch in segment.text]


def assert_rows_match(view) -> None:
    for y in range(view.size.height):
        ours = cells(view._render_line(y))
        theirs = cells(TextArea._render_line(view, y))
        assert ours == theirs, f"row {y} (scrolled {view.scroll_offset.y})"
    assert view._sections, "no row was drawn by the report view's own path"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = make(tmp_path, {"r": TEXT})
    at = TEXT.index
    for word, label, reviewer in [
        ("dupilumab", "drug", "carol"),
        ("word3", "drug", "carol"),
        ("word3 (dose", "event", "dave"),  # overlaps carol's span
        ("aspirin", "drug", "carol"),
        ("漢字", "test", "dave"),
    ]:
        start = at(word)
        store.add_span(Span("r", start, start + len(word), label, word, reviewer))
    return store


@pytest.mark.parametrize("size", [(100, 30), (60, 24)])
async def test_every_row_is_drawn_as_the_text_area_draws_it(store: Store, size) -> None:
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=size) as pilot:
        await pilot.press("o")  # others' spans shown too
        view = app.review_screen.view
        view.cursor_blink = False
        await pilot.pause()
        places = [
            0,
            TEXT.index("("),
            TEXT.index(")"),
            TEXT.index("漢"),
            TEXT.index("word30"),
            TEXT.index("\t"),
            len(TEXT) - 1,
            len(TEXT),
            TEXT.index("\n\n") + 1,
        ]
        for offset in places:
            view.place(offset)
            await pilot.pause()
            assert_rows_match(view)
        for start, end in [
            (TEXT.index("dupilumab"), TEXT.index(" in")),  # within a row
            (TEXT.index("word10"), TEXT.index("word40")),  # across wrapped rows
            (TEXT.index("patient"), TEXT.index("word5")),  # across an empty line
            (TEXT.index("Tab"), len(TEXT)),  # from a line with tabs to the end
        ]:
            for a, b in ((start, end), (end, start)):  # the cursor at either end
                view.select_range(a, b)
                await pilot.pause()
                assert_rows_match(view)
        view.place(TEXT.index("word50"))
        view.scroll_to(y=5, animate=False)
        await pilot.pause()
        assert_rows_match(view)
        await pilot.press("f")  # jump hints drawn over the words on screen
        assert view.hints
        assert_rows_match(view)
        await pilot.press("escape")
        app.set_focus(None)  # no cursor drawn
        await pilot.pause()
        assert_rows_match(view)


async def test_a_new_span_repaints_its_row_and_no_other(store: Store) -> None:
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.review_screen.view
        view.cursor_blink = False
        await pilot.pause()
        view.place(TEXT.index("word20"))
        await pilot.pause()
        before = {line: dict(cut[2]) for line, cut in view._sections.items()}
        assert {0, 2, 4} <= set(before) and len(before[2]) > 2  # the long line: several rows
        await pilot.press("2")  # tags "word20", on the third line, as an event
        assert any(s.text == "word20" for s in store.spans("r", reviewer="carol"))
        await pilot.pause()
        # Only the row holding it was painted again; the others are the rows painted before.
        after = {line: dict(cut[2]) for line, cut in view._sections.items()}
        column = TEXT.index("word20") - TEXT.index(LONG)
        offsets = [0, *view.wrapped_document.get_offsets(2)]
        row = max(i for i, start in enumerate(offsets) if start <= column)
        assert after[2][row] is not before[2][row]
        new = after[2][row]
        assert "word20" in {new.plain[s.start : s.end] for s in new.spans}
        assert all(after[2][i] is before[2][i] for i in before[2] if i != row)
        assert after[0] == before[0] and all(after[0][i] is before[0][i] for i in before[0])
        assert_rows_match(view)


async def test_the_spans_on_screen_are_the_stored_ones_after_every_key(store: Store) -> None:
    """After a change the screen applies what the store committed to the spans it holds
    instead of reading them again: after each of 300 keys, chosen at random among the ones
    that tag, change, delete, undo and move, they are what a read gives, in the same order."""
    keys = [
        "w",
        "w",
        "w",
        "b",
        "e",
        ")",
        "1",
        "2",
        "3",
        "4",
        "x",
        "u",
        "u",
        "U",
        "s",
        "S",
        "left_curly_bracket",
        "right_curly_bracket",
        "left_square_bracket",
        "right_square_bracket",
        "v",
        "shift+right",
        "escape",
        "o",
    ]
    rng = random.Random(5)
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.review_screen
        actions = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]
        for _ in range(300):
            key = rng.choice(keys)
            await pilot.press(key)
            assert screen.all_spans == store.spans("r"), key
            shown = (
                screen.all_spans
                if screen.show_others
                else [s for s in screen.all_spans if s.reviewer == "carol"]
            )
            assert screen.view.spans == sorted(shown, key=lambda s: (s.start, -s.end))
        done = store.conn.execute("SELECT count(*) FROM actions").fetchone()[0] - actions
        assert done > 50  # it tagged, changed and undid a good deal


async def test_jump_hints_are_drawn_as_the_text_area_draws_them_at_any_width(store: Store) -> None:
    # Each row is painted on its own: the hints on it, and none lost where the rows break.
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(70, 30)) as pilot:
        view = app.review_screen.view
        view.cursor_blink = False
        view.place(TEXT.index("word30"))
        for width in range(50, 72, 3):
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            await pilot.press("f")
            assert view.hints
            assert_rows_match(view)
            await pilot.press("escape")
            assert not view.hints
            assert_rows_match(view)


async def test_the_wrapped_rows_are_the_ones_textarea_cuts_at_every_width(tmp_path: Path) -> None:
    """TextArea's cursor code asks for a line's wrapped rows (``get_sections``); the view
    keeps them cut once per wrap. They must be TextArea's own, after every resize, control
    codes (which rich's Text drops) and wide characters included."""
    # (Import shows control characters as visible symbols; the view is given them raw here.)
    odd = "".join(f"w{i} x 漢字\x07 é\x08 y\x1b z " for i in range(80))
    text = TEXT + "\n" + odd + "\n\n" + LONG
    store = make(tmp_path, {"r": TEXT})
    app = ReviewerApp(store, "carol")
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.review_screen.view
        view.show(text, [], "carol")
        for size in [(100, 30), (57, 24), (140, 40), (33, 20)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            doc = view.wrapped_document
            for line in range(doc.document.line_count):
                assert doc.get_sections(line) == WrappedDocument.get_sections(doc, line)
            assert len(doc.get_sections(doc.document.line_count - 1)) > 1  # wrapped rows
        # Positions on screen and back, as an unpatched WrappedDocument gives them.
        ref = WrappedDocument(view.document, tab_width=view.indent_width)
        ref.wrap(view.wrap_width, view.indent_width)
        line = text.count("\n", 0, text.index(odd))
        for column in [0, 1, 5, *doc.get_offsets(line)[:12], len(view.document[line])]:
            assert doc.location_to_offset((line, column)) == ref.location_to_offset((line, column))
        for y in range(0, doc.height, 3):
            for x in (0, 7, 31):
                point = Offset(x, y)
                assert doc.offset_to_location(point) == ref.offset_to_location(point)
    store.close()


@pytest.mark.parametrize("size, panes", [((60, 24), False), ((160, 45), True)])
async def test_the_first_frame_shows_the_report_wrapped(
    store: Store, size: tuple[int, int], panes: bool
) -> None:
    """Textual draws the first frame before the view hears of its size: the view wraps the
    text itself then, or each paragraph would show cut to one row until the Resize. And the
    side panes fit the terminal from that first frame (not shown on a narrow one and hidden
    a moment later)."""
    frames: list[tuple[int, int, int, bool, bool]] = []

    class Watched(ReviewerApp):
        CSS_PATH = str(Path(app_module.__file__).with_name(ReviewerApp.CSS_PATH))

        def _display(self, screen, renderable) -> None:
            if renderable is not None and screen is self.review_screen and not frames:
                view = screen.view
                frames.append(
                    (
                        view.wrap_width,
                        view.wrapped_document._width,
                        view.wrapped_document.height,
                        screen.query_one("#queue-pane").display,
                        screen.query_one("#spans").display,
                    )
                )
            super()._display(screen, renderable)

    app = Watched(store, "carol")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.review_screen.view
        assert frames, "no frame of the review screen was drawn"
        wrap_width, wrapped_at, height, queue_shown, spans_shown = frames[0]
        assert wrap_width > 0 and wrapped_at == wrap_width
        assert height == view.wrapped_document.height > view.document.line_count
        assert (queue_shown, spans_shown) == (panes, panes)
        assert app.review_screen.query_one("#queue-pane").display == panes  # and still
