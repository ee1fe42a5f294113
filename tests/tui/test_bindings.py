"""Every key of the review screen, pressed through Pilot, checked as a reviewer would check it:
where the cursor and selection are, what the screen says, and which rows the database holds.

The tests annotate as carol, a reviewer with no spans yet, mostly on four small purpose-made
reports (r1 to r4) whose offsets are easy to reason about; the sample reports serve where a
long text matters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pyperclip
import pytest
from textual.binding import Binding, BindingsMap
from textual.pilot import Pilot
from textual.widgets import Input, Static

import reviewer.tui.app
from reviewer.core.importer import import_paths
from reviewer.core.model import Span, Status
from reviewer.core.schema import default_schema
from reviewer.core.store import Store
from reviewer.core.words import Words
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens.dialogs import AttributesDialog, TextPrompt
from reviewer.tui.screens.help import HelpScreen, key_text
from reviewer.tui.screens.review import ReviewScreen
from reviewer.tui.widgets.queue import ReportQueue
from reviewer.tui.widgets.report_view import ReportView
from reviewer.tui.widgets.span_list import SpanList

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"
ME = "carol"

R1 = (
    "Aspirin 100 mg daily, then ibuprofen.\n"
    "Fever and rash developed. CRP was high.\n"
    "\n"
    "Lupus was diagnosed in 2019.\n"
)
R2 = "Methotrexate was stopped after nausea.\n"
R3 = "Chest X-ray was clear.\n"
R4 = "Nausea resolved.\n"


def at(word: str, text: str = R1) -> tuple[int, int]:
    """The offsets of the first occurrence of ``word``."""
    start = text.index(word)
    return start, start + len(word)


class RecordingApp(ReviewerApp):
    """The app, keeping every notification it showed (toasts expire; this list does not)."""

    CSS_PATH = Path(reviewer.tui.app.__file__).with_name("app.tcss")

    def __init__(self, store: Store, reviewer: str) -> None:
        super().__init__(store, reviewer)
        self.notices: list[tuple[str, str]] = []

    def notify(self, message: str, *, severity: str = "information", **kwargs) -> None:  # type: ignore[override]
        self.notices.append((str(message), severity))
        super().notify(message, severity=severity, **kwargs)  # type: ignore[arg-type]

    def said(self, fragment: str, severity: str | None = None) -> bool:
        return any(
            fragment in message and severity in (None, level) for message, level in self.notices
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in (("r1", R1), ("r2", R2), ("r3", R3), ("r4", R4)):
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [folder], reviewer="x")
    assert store.report("r1").text == R1
    yield store
    store.close()


@pytest.fixture
def samples(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "samples.db")
    import_paths(store, [SAMPLES], reviewer="alice")
    yield store
    store.close()


@asynccontextmanager
async def running(
    store: Store, reviewer: str = ME, size: tuple[int, int] = (120, 35)
) -> AsyncIterator[tuple[RecordingApp, Pilot]]:
    app = RecordingApp(store, reviewer)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        yield app, pilot


def view(app: ReviewerApp) -> ReportView:
    return app.review_screen.view


def status_line(app: ReviewerApp) -> str:
    return str(app.review_screen.query_one("#status", Static).render())


def mine(store: Store, report_id: str = "r1") -> list[tuple[int, int, str, str]]:
    """Carol's spans of a report as (start, end, label, text), in document order."""
    return [(s.start, s.end, s.label, s.text) for s in store.spans(report_id, reviewer=ME)]


def only_span(store: Store, report_id: str = "r1") -> Span:
    (span,) = store.spans(report_id, reviewer=ME)
    return span


def status_row(store: Store, report_id: str) -> tuple[str, str] | None:
    """The raw review_status row (status, flag_reason) of carol for a report."""
    return store.conn.execute(
        "SELECT status, flag_reason FROM review_status WHERE report_id = ? AND reviewer = ?",
        (report_id, ME),
    ).fetchone()


def current(app: ReviewerApp) -> str:
    report = app.review_screen.report
    assert report is not None
    return report.id


def queue_ids(app: ReviewerApp) -> list[str]:
    return [row.report_id for row in app.review_screen.query_one(ReportQueue).rows]


async def tag(app: ReviewerApp, pilot: Pilot, word: str, key: str = "1") -> Span:
    """Put the cursor inside ``word`` of r1 and press a label key; returns the new span."""
    view(app).place(at(word)[0] + 1)
    await pilot.press(key)
    return next(s for s in app.store.spans("r1", reviewer=ME) if s.text == word)


# --- moving the cursor ------------------------------------------------------------------------


async def test_character_and_line_motions(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        assert v.offset == 0
        await pilot.press("l", "right")
        assert v.offset == 2
        await pilot.press("h")
        assert v.offset == 1
        await pilot.press("left")
        assert v.offset == 0
        await pilot.press("l", "l", "l", "j")
        assert v.cursor_location == (1, 3) and v.offset == R1.index("Fever") + 3
        await pilot.press("down")
        assert v.cursor_location[0] == 2  # the blank line
        await pilot.press("k")
        assert v.cursor_location[0] == 1
        await pilot.press("up")
        assert v.cursor_location[0] == 0
        await pilot.press("end")
        assert v.offset == R1.index("\n")
        await pilot.press("home")
        assert v.offset == 0
        assert v.selected_range() is None


async def test_word_motions(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("w")
        assert v.offset == at("100")[0]
        await pilot.press("ctrl+right")
        assert v.offset == at("mg")[0]
        await pilot.press("w", "w")  # over ", " to the next word
        assert v.offset == at("then")[0]
        await pilot.press("b")
        assert v.offset == at("daily")[0]
        await pilot.press("ctrl+left")
        assert v.offset == at("mg")[0]
        await pilot.press("e")  # onto the last character of "mg"
        assert v.offset == at("mg")[1] - 1 and R1[v.offset] == "g"
        await pilot.press("e")  # then of the next word, without its comma
        assert v.offset == at("daily")[1] - 1 and R1[v.offset] == "y"
        assert v.selected_range() is None


async def test_sentence_and_document_motions(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("right_parenthesis")
        assert v.offset == at("Fever")[0]
        await pilot.press(")")
        assert v.offset == at("CRP")[0]
        await pilot.press(")")  # a blank line ends a sentence too
        assert v.offset == at("Lupus")[0]
        await pilot.press("left_parenthesis")
        assert v.offset == at("CRP")[0]
        await pilot.press("(")
        assert v.offset == at("Fever")[0]
        await pilot.press("G")
        assert v.offset == len(R1)
        await pilot.press("g")
        assert v.offset == 0


async def test_a_count_repeats_the_next_motion(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("ctrl+u")
        assert "count …" in status_line(app)
        await pilot.press("3")
        assert "count 3" in status_line(app)
        assert v.offset == 0  # the digit is a count, not a label key
        await pilot.press("w")
        assert v.offset == at("daily")[0]
        assert "count" not in status_line(app)
        await pilot.press("ctrl+u", "2", "j")
        assert v.cursor_location[0] == 2
        assert mine(store) == []


async def test_shift_keys_extend_the_selection(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("shift+right")
        assert v.selected_range() == (0, at("Aspirin")[1])
        await pilot.press("shift+right")
        assert v.selected_range() == (0, at("100")[1])
        await pilot.press("shift+left")
        assert v.selected_range() == (0, at("100")[0])
        await pilot.press("shift+down")
        assert v.selected_range() == (0, at("Fever")[0] + 8)
        await pilot.press("shift+up")
        assert v.selected_range() == (0, at("100")[0])
        await pilot.press("escape")
        assert v.selected_range() is None
        assert mine(store) == []


async def test_extend_mode_makes_motions_select(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("v")
        assert v.extend and "EXTEND" in status_line(app)
        await pilot.press("w")
        assert v.selected_range() == (0, at("Aspirin")[1])
        await pilot.press("w")
        assert v.selected_range() == (0, at("100")[1])
        await pilot.press("b")
        assert v.selected_range() == (0, at("100")[0])
        await pilot.press("e")
        assert v.selected_range() == (0, at("100")[1])
        await pilot.press("escape")
        assert not v.extend and "EXTEND" not in status_line(app)
        assert v.selected_range() is None and v.offset == at("100")[1]
        await pilot.press("v", "w", "v")  # v again leaves extend mode and drops the selection
        assert not v.extend and v.selected_range() is None
        await pilot.press("g", "v", "w", "w", "3")  # a label key ends extend mode
        assert mine(store) == [(0, at("100")[1], "test", "Aspirin 100")]
        assert not v.extend and "EXTEND" not in status_line(app)


# --- jump hints -------------------------------------------------------------------------------


async def test_jump_hints_move_the_cursor_to_a_word(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("f")
        assert "JUMP" in status_line(app)
        assert sorted(v.hints.values()) == Words(R1).starts  # every word is on screen
        assert all(len(label) == 1 for label in v.hints)
        label = next(k for k, offset in v.hints.items() if offset == at("ibuprofen")[0])
        await pilot.press(label)
        assert v.offset == at("ibuprofen")[0] and v.hints == {}
        assert "JUMP" not in status_line(app)


async def test_a_key_that_is_no_hint_cancels_the_jump(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        await pilot.press("f", "1")  # a label key: cancels, and tags nothing
        assert v.hints == {} and v.offset == 0 and mine(store) == []
        await pilot.press("f")
        unused = next(c for c in "abcdefghijklmnopqrstuvwxyz" if c not in v.hints)
        await pilot.press(unused)
        assert v.hints == {} and v.offset == 0
        await pilot.press("f", "escape")
        assert v.hints == {} and v.offset == 0 and mine(store) == []


async def test_two_letter_hints_on_a_long_report(samples: Store) -> None:
    async with running(samples) as (app, pilot):
        v = view(app)
        await pilot.press("f")
        assert len(v.hints) > 26 and all(len(label) == 2 for label in v.hints)
        label, target = list(v.hints.items())[40]
        await pilot.press(label[0])  # the first letter narrows the hints
        assert v.hint_typed == label[0] and v.offset == 0
        await pilot.press(label[1])  # three keys in all, f included
        assert v.offset == target and v.hints == {}
        assert target in Words(v.text).starts


# --- labels -----------------------------------------------------------------------------------


async def test_label_keys_tag_the_word_under_the_cursor(store: Store) -> None:
    async with running(store) as (app, pilot):
        assert status_row(store, "r1") is None
        for word, key in (("Aspirin", "1"), ("rash", "2"), ("CRP", "3"), ("Lupus", "4")):
            view(app).place(at(word)[0] + 1)  # inside the word
            await pilot.press(key)
        assert mine(store) == [
            (*at("Aspirin"), "drug", "Aspirin"),
            (*at("rash"), "event", "rash"),
            (*at("CRP"), "test", "CRP"),
            (*at("Lupus"), "diagnosis", "Lupus"),
        ]
        assert {s.reviewer for s in view(app).spans} == {ME}
        # The first edit put the report in progress, in the database and on screen.
        assert store.status("r1", ME).status is Status.IN_PROGRESS
        assert status_row(store, "r1")[0] == "in_progress"
        assert "in progress" in status_line(app)
        assert store.status("r2", ME).status is Status.TODO


async def test_a_selection_snaps_to_whole_words(store: Store) -> None:
    async with running(store) as (app, pilot):
        # From inside "Aspirin" across "daily," and the space after it.
        view(app).select_range(3, at("then")[0])
        await pilot.press("1")
        assert mine(store) == [(0, at("daily")[1], "drug", "Aspirin 100 mg daily")]
        assert view(app).selected_range() is None


async def test_a_label_key_on_my_span_changes_its_label_and_never_duplicates(
    store: Store,
) -> None:
    async with running(store) as (app, pilot):
        span = await tag(app, pilot, "rash", "2")
        await pilot.press("2")  # the same label again
        assert mine(store) == [(*at("rash"), "event", "rash")]
        assert app.said("Already")
        await pilot.press("4")
        relabelled = only_span(store)
        assert (relabelled.id, relabelled.label) == (span.id, "diagnosis")
        # Selecting the same words and pressing the label again does not add a second span.
        view(app).select_range(*at("rash"))
        await pilot.press("4")
        assert mine(store) == [(*at("rash"), "diagnosis", "rash")]


async def test_a_label_key_on_a_space_writes_nothing(store: Store) -> None:
    async with running(store) as (app, pilot):
        view(app).place(at("Fever")[1] + 4)  # the space between "and" and "rash"
        await pilot.press("1")
        assert mine(store) == []
        assert app.said("No word under the cursor", "warning")
        assert status_row(store, "r1") is None


async def test_a_label_key_on_the_space_after_my_span_writes_nothing(store: Store) -> None:
    async with running(store) as (app, pilot):
        await tag(app, pilot, "rash", "2")
        view(app).place(at("rash")[1])  # the space between "rash" and "developed"
        await pilot.press("1")
        assert mine(store) == [(*at("rash"), "event", "rash")]


# --- deleting ---------------------------------------------------------------------------------


async def test_x_deletes_my_span_and_undo_brings_it_back(store: Store) -> None:
    async with running(store) as (app, pilot):
        span = await tag(app, pilot, "ibuprofen")
        view(app).place(at("ibuprofen")[0] + 3)
        await pilot.press("x")
        assert mine(store) == [] and view(app).spans == []
        assert "Deleted" in status_line(app)
        await pilot.press("x")  # nothing of mine here any more
        assert app.said("Move onto one of your spans", "warning")
        await pilot.press("u")
        assert only_span(store).id == span.id
        assert mine(store) == [(*at("ibuprofen"), "drug", "ibuprofen")]


async def test_the_delete_key_deletes_my_span(store: Store) -> None:
    async with running(store) as (app, pilot):
        await tag(app, pilot, "ibuprofen")
        await pilot.press("delete")
        assert mine(store) == []


async def test_another_reviewers_span_is_never_deleted(store: Store) -> None:
    store.add_span(Span("r1", *at("CRP"), "test", "CRP", "bob"))
    async with running(store) as (app, pilot):
        view(app).place(at("CRP")[0] + 1)
        await pilot.press("x")  # bob's span is hidden: there is no span of carol's here
        assert app.said("Move onto one of your spans", "warning")
        await pilot.press("o")  # shown, read-only
        await pilot.press("x")
        assert [s.text for s in store.spans("r1", reviewer="bob")] == ["CRP"]
        assert app.said("bob's", "warning")
        await pilot.press("delete")
        assert [s.text for s in store.spans("r1", reviewer="bob")] == ["CRP"]
        assert store.undo_stacks(ME) == ([], [])
        await pilot.press("3")  # a label key adds carol's own span over bob's
        assert mine(store) == [(*at("CRP"), "test", "CRP")]
        assert [s.text for s in store.spans("r1", reviewer="bob")] == ["CRP"]


# --- notes and attributes ---------------------------------------------------------------------


async def test_N_writes_a_note_and_escape_cancels_it(store: Store) -> None:
    async with running(store) as (app, pilot):
        span = await tag(app, pilot, "rash", "2")
        await pilot.press("N")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"recheck", "enter")
        assert isinstance(app.screen, ReviewScreen)
        assert only_span(store).note == "recheck"
        assert only_span(store).id == span.id
        await pilot.press("N", *" later", "escape")
        assert isinstance(app.screen, ReviewScreen)
        assert only_span(store).note == "recheck"
        view(app).place(0)  # no span here: no dialog, a hint what to do
        await pilot.press("N")
        assert isinstance(app.screen, ReviewScreen)
        assert app.said("Move onto one of your spans", "warning")


async def test_a_toggles_attributes(store: Store) -> None:
    async with running(store) as (app, pilot):
        await tag(app, pilot, "Fever", "2")
        await pilot.press("a")
        assert isinstance(app.screen, AttributesDialog)
        await pilot.press("n", "enter")
        assert only_span(store).attributes == {"negated": True}
        await pilot.press("a", "n", "u", "h", "enter")
        assert only_span(store).attributes == {"uncertain": True, "historical": True}
        await pilot.press("a", "u", "escape")
        assert isinstance(app.screen, ReviewScreen)
        assert only_span(store).attributes == {"uncertain": True, "historical": True}


# --- moving between spans ---------------------------------------------------------------------


async def test_s_and_S_select_the_next_and_previous_span(store: Store) -> None:
    store.add_span(Span("r1", *at("Fever"), "event", "Fever", "bob"))
    async with running(store) as (app, pilot):
        await tag(app, pilot, "ibuprofen")
        await tag(app, pilot, "rash", "2")
        v = view(app)
        v.place(0)
        await pilot.press("s", "s")
        assert v.selected_range() == at("rash")  # bob's span is hidden: not a stop
        await pilot.press("o")  # shown: visited too
        v.place(0)
        await pilot.press("s")
        assert v.selected_range() == at("ibuprofen")
        await pilot.press("s")
        assert v.selected_range() == at("Fever")  # others' spans are visited too
        await pilot.press("s")
        assert v.selected_range() == at("rash")
        await pilot.press("S")
        assert v.selected_range() == at("Fever")
        await pilot.press("S", "S")
        assert v.selected_range() == at("ibuprofen")
        assert "No more spans that way" in str(app.review_screen.query_one("#status").render())
        assert len(store.spans("r1")) == 3


async def test_s_moves_on_where_two_reviewers_tagged_the_same_words(store: Store) -> None:
    store.add_span(Span("r1", *at("ibuprofen"), "drug", "ibuprofen", "bob"))
    async with running(store) as (app, pilot):
        await tag(app, pilot, "ibuprofen")
        await tag(app, pilot, "rash", "2")
        v = view(app)
        v.place(0)
        await pilot.press("s")
        assert v.selected_range() == at("ibuprofen")
        await pilot.press("s")  # bob's span on the same words is not a second stop
        assert v.selected_range() == at("rash")


async def test_s_selects_a_span_starting_at_the_cursor(store: Store) -> None:
    async with running(store) as (app, pilot):
        await tag(app, pilot, "Aspirin")
        await tag(app, pilot, "ibuprofen")
        await pilot.press("g", "s")
        assert view(app).selected_range() == at("Aspirin")


# --- boundaries -------------------------------------------------------------------------------


async def test_brackets_move_the_edges_of_a_selection(store: Store) -> None:
    async with running(store) as (app, pilot):
        v = view(app)
        v.select_range(*at("ibuprofen"))
        await pilot.press("left_curly_bracket")
        assert v.selected_range() == (at("then")[0], at("ibuprofen")[1])
        await pilot.press("left_square_bracket")
        assert v.selected_range() == at("ibuprofen")
        await pilot.press("right_curly_bracket")
        assert v.selected_range() == (at("ibuprofen")[0], at("Fever")[1])
        await pilot.press("right_square_bracket")
        assert v.selected_range() == at("ibuprofen")
        assert store.spans("r1") == [] and store.undo_stacks(ME) == ([], [])


async def test_brackets_move_the_edges_of_my_span(store: Store) -> None:
    async with running(store) as (app, pilot):
        span = await tag(app, pilot, "mg")
        await pilot.press("{")
        assert mine(store) == [(at("100")[0], at("mg")[1], "drug", "100 mg")]
        await pilot.press("}")
        assert mine(store) == [(at("100")[0], at("daily")[1], "drug", "100 mg daily")]
        await pilot.press("[")
        assert mine(store) == [(at("mg")[0], at("daily")[1], "drug", "mg daily")]
        await pilot.press("]")
        assert mine(store) == [(*at("mg"), "drug", "mg")]
        assert only_span(store).id == span.id
        await pilot.press("]")  # one word left: it cannot shrink further
        assert mine(store) == [(*at("mg"), "drug", "mg")]
        assert app.said("cannot move further", "warning")
        assert len(store.undo_stacks(ME)[0]) == 5  # the tag and four boundary moves


# --- precision --------------------------------------------------------------------------------


async def test_c_toggles_character_precision(store: Store) -> None:
    async with running(store) as (app, pilot):
        assert "words" in status_line(app).lower()
        await pilot.press("c")
        assert "chars" in status_line(app).lower()
        view(app).select_range(1, 5)
        await pilot.press("1")
        view(app).select_range(at("100")[0] - 1, at("100")[1] + 1)  # " 100 "
        await pilot.press("3")
        assert mine(store) == [(1, 5, "drug", "spir"), (*at("100"), "test", "100")]
        await pilot.press("c")
        assert "words" in status_line(app).lower()
        view(app).select_range(at("Fever")[0] + 1, at("Fever")[0] + 3)
        await pilot.press("2")
        assert (*at("Fever"), "event", "Fever") in mine(store)


# --- undo and redo ----------------------------------------------------------------------------


async def test_undo_and_redo_keys(store: Store) -> None:
    async with running(store) as (app, pilot):
        await tag(app, pilot, "Aspirin", "1")
        await pilot.press("2")  # relabel
        assert mine(store) == [(*at("Aspirin"), "event", "Aspirin")]
        await pilot.press("u")
        assert mine(store) == [(*at("Aspirin"), "drug", "Aspirin")]
        await pilot.press("ctrl+z")
        assert mine(store) == []
        assert [len(stack) for stack in store.undo_stacks(ME)] == [0, 2]
        await pilot.press("u")
        assert "Nothing to undo" in str(app.review_screen.query_one("#status").render())
        await pilot.press("U")
        assert mine(store) == [(*at("Aspirin"), "drug", "Aspirin")]
        await pilot.press("ctrl+y")
        assert mine(store) == [(*at("Aspirin"), "event", "Aspirin")]
        assert [len(stack) for stack in store.undo_stacks(ME)] == [2, 0]
        await pilot.press("U")
        assert "Nothing to redo" in str(app.review_screen.query_one("#status").render())
        assert view(app).spans == store.spans("r1")
        await pilot.press("n", "u")  # undo from another report goes back to the change
        assert current(app) == "r1"
        assert mine(store) == [(*at("Aspirin"), "drug", "Aspirin")]


async def test_undo_works_after_a_restart(store: Store) -> None:
    async with running(store) as (app, pilot):
        span = await tag(app, pilot, "ibuprofen")
    async with running(store) as (app, pilot):
        assert [s.id for s in view(app).spans] == [span.id]
        await pilot.press("u")
        assert mine(store) == [] and view(app).spans == []
        undo, redo = store.undo_stacks(ME)
        assert undo == [] and len(redo) == 1
        await pilot.press("U")
        assert only_span(store).id == span.id


# --- moving through the reports ---------------------------------------------------------------


async def test_n_and_p_move_through_the_queue(store: Store) -> None:
    async with running(store) as (app, pilot):
        assert current(app) == "r1" and "report 1/4" in status_line(app)
        await pilot.press("n")
        assert current(app) == "r2" and view(app).text == R2
        await pilot.press("n", "n", "n")
        assert current(app) == "r4" and app.said("last report of the queue")
        await pilot.press("p")
        assert current(app) == "r3" and "report 3/4" in status_line(app)
        assert store.position(ME) == ("r3", 0)
        assert store.statuses(ME).get("r3", Status.TODO) is Status.TODO  # reading is no edit


async def test_t_opens_the_next_report_neither_done_nor_flagged(store: Store) -> None:
    store.set_status("r2", ME, Status.DONE)
    store.set_status("r3", ME, Status.FLAGGED, reason="unclear dose")
    async with running(store) as (app, pilot):
        await pilot.press("t")
        assert current(app) == "r4"
        await pilot.press("t")  # round the end of the queue
        assert current(app) == "r1"
        assert status_row(store, "r1") in (None, ("todo", ""))


async def test_d_marks_done_and_d_again_reopens(store: Store) -> None:
    for report_id in ("r2", "r3", "r4"):
        store.set_status(report_id, ME, Status.DONE)
    async with running(store) as (app, pilot):
        await pilot.press("d")
        assert status_row(store, "r1") == ("done", "")
        assert "done" in status_line(app)
        assert current(app) == "r1" and app.said("No report left to do")
        await pilot.press("d")
        assert status_row(store, "r1") == ("in_progress", "")
        assert current(app) == "r1" and app.said("reopened")


async def test_exclamation_mark_flags_with_a_reason_and_unflags(store: Store) -> None:
    for report_id in ("r2", "r3", "r4"):
        store.set_status(report_id, ME, Status.DONE)
    async with running(store) as (app, pilot):
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"dose?", "enter")
        assert isinstance(app.screen, ReviewScreen)
        assert status_row(store, "r1") == ("flagged", "dose?")
        assert store.status("r1", ME).flag_reason == "dose?"
        assert "flagged" in status_line(app)
        await pilot.press("!")  # the reason is offered again; emptied, the flag comes off
        assert app.screen.query_one(Input).value == "dose?"
        await pilot.press("ctrl+u", "enter")
        assert status_row(store, "r1") == ("in_progress", "")


async def test_a_flag_needs_a_reason(store: Store) -> None:
    async with running(store) as (app, pilot):
        await pilot.press("!", "enter")
        assert isinstance(app.screen, ReviewScreen)
        assert app.said("a flag needs a reason", "warning")
        await pilot.press("!", *"why", "escape")
        assert current(app) == "r1"
        assert store.status("r1", ME).status is Status.TODO
        assert status_row(store, "r1") in (None, ("todo", ""))


def position_row(store: Store) -> tuple:
    return store.conn.execute(
        "SELECT report_id, cursor, updated_at FROM reviewer_position WHERE reviewer = ?", (ME,)
    ).fetchone()


async def assert_settled_on(app: ReviewerApp, report_id: str) -> None:
    """The app shows ``report_id`` and stays there: it neither moves nor writes on its own
    (the queue's highlight once answered the move by opening the report before, forever)."""
    assert current(app) == report_id
    before = position_row(app.store)
    await asyncio.sleep(0.3)
    assert (current(app), position_row(app.store)) == (report_id, before)


async def test_d_opens_the_next_to_do_and_stays_there(store: Store) -> None:
    async with running(store) as (app, pilot):
        await pilot.press("n", "n", "n", "d")  # the last report: round to the first
        assert status_row(store, "r4") == ("done", "")
        await assert_settled_on(app, "r1")
        assert "report 1/4 · todo" in status_line(app)


async def test_a_flag_opens_the_next_to_do_and_stays_there(store: Store) -> None:
    async with running(store) as (app, pilot):
        await pilot.press("!", *"why", "enter")
        assert status_row(store, "r1") == ("flagged", "why")
        await assert_settled_on(app, "r2")


# --- the clipboard ----------------------------------------------------------------------------


def no_system_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> None:
        raise pyperclip.PyperclipException("no clipboard here")

    monkeypatch.setattr(pyperclip, "copy", fail)


async def test_y_copies_the_selection_the_span_or_the_word(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_system_clipboard(monkeypatch)
    async with running(store) as (app, pilot):
        view(app).select_range(0, at("mg")[1])
        await pilot.press("y")
        assert app.clipboard == "Aspirin 100 mg"
        assert app.said("OSC 52")
        await tag(app, pilot, "ibuprofen")
        view(app).place(at("ibuprofen")[0] + 2)
        await pilot.press("y")
        assert app.clipboard == "ibuprofen"
        view(app).place(at("developed")[0] + 2)
        await pilot.press("y")
        assert app.clipboard == "developed"
        view(app).place(at("Fever")[1] + 4)  # a space, no span: nothing to copy
        await pilot.press("y")
        assert app.clipboard == "developed" and app.said("Nothing to copy", "warning")
        view(app).select_range(*at("CRP was high"))
        await pilot.press("ctrl+c")
        assert app.clipboard == "CRP was high"
        assert app.is_running


async def test_Y_copies_the_citation_to_the_system_clipboard(
    samples: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    async with running(samples) as (app, pilot):
        await pilot.press("Y")
        citation = samples.report("case01").citation()
        assert "doi:10.5555/jpcr.2025.0142" in citation
        assert app.clipboard == citation and copied == [citation]
        assert app.said("system clipboard")


# --- find -------------------------------------------------------------------------------------


async def test_find_selects_as_you_type_and_enter_keeps_the_selection(store: Store) -> None:
    async with running(store) as (app, pilot):
        v, bar = view(app), app.review_screen.query_one("#find", Input)
        await pilot.press("ctrl+f")
        assert bar.display and bar.has_focus
        await pilot.press("r")
        assert v.selected_range() == (R1.index("r"), R1.index("r") + 1)
        await pilot.press("a")
        assert v.selected_range() == (R1.index("ra"), R1.index("ra") + 2)
        await pilot.press("s", "h", "enter")
        assert not bar.display and v.has_focus
        assert v.selected_range() == at("rash")
        await pilot.press("2")
        assert mine(store) == [(*at("rash"), "event", "rash")]


async def test_escape_leaves_find_where_it_started(store: Store) -> None:
    async with running(store) as (app, pilot):
        v, bar = view(app), app.review_screen.query_one("#find", Input)
        v.place(at("then")[0])
        await pilot.press("ctrl+f", *"crp")  # lower case finds any case
        assert v.selected_range() == at("CRP")
        await pilot.press("escape")
        assert not bar.display and v.has_focus
        assert v.offset == at("then")[0] and v.selected_range() is None
        await pilot.press("ctrl+f", *"zzz", "enter")
        assert app.said("Not found", "warning") and v.offset == at("then")[0]
        assert mine(store) == []


# --- panes and the queue filter ---------------------------------------------------------------


async def test_Q_and_L_show_and_hide_the_side_panes(store: Store) -> None:
    async with running(store) as (app, pilot):
        screen = app.review_screen
        queue, spans = screen.query_one("#queue-pane"), screen.query_one(SpanList)
        assert queue.display and not spans.display  # 120 columns: the queue fits, spans not
        await pilot.press("Q")
        assert not queue.display and view(app).has_focus
        await pilot.press("Q")
        assert queue.display and screen.query_one(ReportQueue).has_focus
        await pilot.press("L")
        assert spans.display and spans.has_focus
        await pilot.press("L")
        assert not spans.display and view(app).has_focus


async def test_F_filters_the_queue(store: Store) -> None:
    store.set_status("r3", ME, Status.DONE)
    async with running(store) as (app, pilot):
        screen = app.review_screen
        box = screen.query_one("#queue-filter", Input)
        await pilot.press("Q", "Q", "F")  # even when hidden, F shows the queue
        assert box.has_focus
        await pilot.press("r", "2")
        assert queue_ids(app) == ["r2"]
        assert screen.query_one(ReportQueue).border_title == "Reports 1/4"
        await pilot.press("escape")
        assert box.value == "" and queue_ids(app) == ["r1", "r2", "r3", "r4"]
        await pilot.press("F", *"status:done")
        assert queue_ids(app) == ["r3"]
        await pilot.press("escape", "F", *"status:bogus")
        # While typing, the queue's title says what is wrong; enter says it in a warning.
        assert "unknown status 'bogus'" in str(screen.query_one(ReportQueue).border_title)
        assert not app.said("unknown status", "warning")
        await pilot.press("enter")
        assert app.said("unknown status 'bogus'", "warning") and box.has_focus
        assert app.is_running and queue_ids(app) == ["r1", "r2", "r3", "r4"]
        await pilot.press("escape")
        assert box.value == "" and queue_ids(app) == ["r1", "r2", "r3", "r4"]
        assert mine(store) == []


# --- help -------------------------------------------------------------------------------------


async def test_question_mark_lists_every_key(store: Store) -> None:
    async with running(store) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = str(app.screen.query_one("#help-body Static", Static).render()).splitlines()

        def listed(keys: str, what: str) -> bool:
            return any(line.strip().startswith(key_text(keys)) and what in line for line in lines)

        for binding in [*ReviewScreen.BINDINGS, *ReportView.BINDINGS]:
            assert isinstance(binding, Binding)
            # The longer tooltip, where a binding has one, stands in for the footer's word.
            assert listed(binding.key, binding.tooltip or binding.description), binding
        for label in store.labels.labels:
            assert listed(label.key or "", f"Tag as {label.name}")
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)


# --- coming back ------------------------------------------------------------------------------


async def test_reopening_returns_to_the_report_and_cursor(samples: Store) -> None:
    async with running(samples) as (app, pilot):
        await pilot.press("n", "n", "j", "j", "w", "w")
        assert current(app) == "case03"
        cursor = view(app).offset
        assert cursor > 0
        await pilot.press("ctrl+q")
    assert samples.position(ME) == ("case03", cursor)
    async with running(samples) as (app, pilot):
        assert current(app) == "case03"
        assert view(app).offset == cursor
        assert "report 3/13" in status_line(app)


# --- the key map as a whole -------------------------------------------------------------------


def label_bindings() -> list[Binding]:
    return [
        Binding(label.key, f"label({i})", f"Tag as {label.name}")
        for i, label in enumerate(default_schema().labels)
        if label.key
    ]


def test_no_two_bindings_share_a_key() -> None:
    actions: dict[str, set[str]] = {}
    for bindings in (ReviewScreen.BINDINGS, ReportView.BINDINGS, label_bindings()):
        for key, found in BindingsMap(bindings).key_to_bindings.items():
            # The text's "screen.delete" runs the screen's "delete": one action, two routes.
            actions.setdefault(key, set()).update(b.action.removeprefix("screen.") for b in found)
    assert {key: found for key, found in actions.items() if len(found) > 1} == {}
    assert {"1", "2", "3", "4", "x", "delete", "right_parenthesis"} <= set(actions)


def test_no_screen_key_is_shadowed_by_the_text_areas_inherited_bindings() -> None:
    text_keys = ReportView._merge_bindings().key_to_bindings
    screen_keys = {*BindingsMap(ReviewScreen.BINDINGS).key_to_bindings}
    screen_keys |= {*BindingsMap(label_bindings()).key_to_bindings}
    own = {*BindingsMap(ReportView.BINDINGS).key_to_bindings}
    assert {key for key in screen_keys & set(text_keys) if key not in own} == set()


async def test_jump_hints_tag_a_word_in_fewer_than_six_keys(samples: Store) -> None:
    targets = ["Dupilumab", "monoclonal", "interleukin-4", "dermatitis", "redness"]
    async with running(samples) as (app, pilot):
        v = view(app)
        keys = 0
        for word, label_key in zip(targets, "12341", strict=True):
            start = v.text.index(word)
            await pilot.press("f")
            hint = next(k for k, offset in v.hints.items() if offset == start)
            await pilot.press(*hint, label_key)
            keys += 1 + len(hint) + 1
        tagged = {(s.text, s.label) for s in samples.spans("case01", reviewer=ME)}
        assert tagged == {
            ("Dupilumab", "drug"),
            ("monoclonal", "event"),
            ("interleukin-4", "test"),
            ("dermatitis", "diagnosis"),
            ("redness", "drug"),
        }
        assert keys / len(targets) < 6
