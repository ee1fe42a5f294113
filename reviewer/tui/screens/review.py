"""The review screen: the queue, the report text, its spans and metadata, and every key that
turns a selection into a span. It conducts: widgets show and move, the screen talks to the store.

Each change goes to the store as one transaction the moment the key is pressed; the status line
says when the last one was saved (or that it failed, and why).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea
from textual.worker import get_current_worker

from reviewer.core.changes import layer_counts
from reviewer.core.model import Report, ReviewerError, Span, Status
from reviewer.core.store import ActionResult, Cancelled, Change, Store, applied
from reviewer.core.text import find_all, one_line
from reviewer.tui.screens.editing import EditingMixin
from reviewer.tui.screens.layers import LayersMixin
from reviewer.tui.widgets.queue import QueueRow, ReportQueue, matches, parse_filter
from reviewer.tui.widgets.report_view import ReportView
from reviewer.tui.widgets.rows import RowList, key_name
from reviewer.tui.widgets.span_list import SpanList
from reviewer.tui.widgets.title_bar import TitleBar

# Widths at which the side panes show by default; narrower, they are toggled (Q, L).
QUEUE_MIN_WIDTH = 100
SPANS_MIN_WIDTH = 140
# Time on one report beyond this is taken as the reviewer having walked away.
MAX_SECONDS_PER_VISIT = 30 * 60


class LineInput(Input):
    """An input that says when escape is pressed (the find bar and the queue filter)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    class Cancelled(Message):
        def __init__(self, input: LineInput) -> None:
            super().__init__()
            self.input = input

        @property
        def control(self) -> LineInput:
            return self.input

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self))


class ReviewScreen(EditingMixin, LayersMixin, Screen):
    """Annotate reports one after another."""

    AUTO_FOCUS = "#text"  # not the first input (the queue filter), then the text: one restyle
    BINDINGS = [
        Binding("question_mark", "help", "Keys"),
        Binding("slash", "search", "Search"),
        Binding("x,delete", "delete", "Delete span"),
        Binding("N", "note", "Note", show=False),
        Binding("a", "attributes", "Attributes", show=False),
        Binding("s", "next_span", "Next span", show=False),
        Binding("S", "previous_span", "Previous span", show=False),
        Binding("left_curly_bracket", "edge('start', True)", "Grow start by a word", show=False),
        Binding("right_curly_bracket", "edge('end', True)", "Grow end by a word", show=False),
        Binding(
            "left_square_bracket", "edge('start', False)", "Shrink start by a word", show=False
        ),
        Binding("right_square_bracket", "edge('end', False)", "Shrink end by a word", show=False),
        Binding("u", "undo", "Undo"),
        Binding("U", "redo", "Redo", show=False),
        Binding("n", "next_report", "Next report"),
        Binding("p", "previous_report", "Previous report", show=False),
        Binding("t", "next_todo", "Next to do", show=False),
        Binding(
            "d", "done", "Done", tooltip="Mark done, open the next to do (on a done one: reopen)"
        ),
        Binding(
            "exclamation_mark", "flag", "Flag with a reason (empty reason: unflag)", show=False
        ),
        Binding("y", "copy", "Copy text", show=False),
        Binding("Y", "copy_citation", "Copy citation", show=False),
        Binding("c", "toggle_precision", "Word/char precision", show=False),
        Binding("ctrl+f", "find", "Find in report", show=False),
        Binding("Q", "toggle_queue", "Show/hide queue", show=False),
        Binding("L", "toggle_spans", "Show/hide span list", show=False),
        Binding("F", "filter_queue", "Filter queue", show=False),
        Binding("o", "toggle_others", "Show/hide other reviewers' spans", show=False),
    ]

    def __init__(self, store: Store, reviewer: str) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer
        self.labels = store.labels
        self.rows: list[QueueRow] = []
        self._row_index: dict[str, int] = {}
        self._search = None  # the search screen, kept so that / returns to it as it was
        self.report: Report | None = None
        self.spans: list[Span] = []  # the current report's spans on show (see LayersMixin)
        self.init_layers()
        self.words_precision = True
        self.saved = "nothing changed yet"
        self.save_failed = False
        self.opened_at = time.monotonic()
        self._layout_chosen = False
        self._resumed = False  # see on_screen_resume
        self._find_origin = 0
        self._cursor = 0  # the text cursor's offset, kept for saving when the widgets are gone
        for i, label in enumerate(self.labels.labels):
            if label.key:
                self._bindings.bind(
                    key_name(label.key), f"label({i})", f"Tag as {label.name}", show=False
                )

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="main"):
            with Vertical(id="queue-pane"):
                yield LineInput(placeholder="filter (F): words, status:todo", id="queue-filter")
                yield ReportQueue(self.labels, id="queue")
            with Vertical(id="reading"):
                yield Static(id="meta")
                yield ReportView(self.labels, id="text")
                yield LineInput(placeholder="find in report", id="find")
                yield Static(self._legend(), id="legend")
            yield SpanList(self.labels, id="spans")
        yield Static(id="status")
        yield Footer()

    @property
    def view(self) -> ReportView:
        return self.query_one(ReportView)

    def _legend(self) -> Content:
        parts: list[str | tuple[str, str]] = [" "]
        for label in self.labels.labels:
            if label.key:
                parts += [(label.key, "bold"), " ", (label.name, f"#1c1c1c on {label.color}"), "  "]
        parts.append(("yours filled · others' underlined (o)", "dim"))
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        self.query_one("#find").display = False
        # Span counts after the first frame: counting in a thread beside the first frame's
        # layout and drawing would share the interpreter with them.
        self.refresh_queue(count=False)
        self.call_after_refresh(self._count_spans)
        # The first frame can come before the first Resize: the panes fit the app's size now.
        self._fit_panes(self.app.size.width)
        if not self.rows:
            self.query_one("#meta", Static).update(
                Content(
                    "No reports yet: run reviewer import PATH (from another terminal they "
                    "show up here)"
                )
            )
            return
        self.first_reports()

    def first_reports(self) -> None:
        """Open where the reviewer left off, else the first report of the queue."""
        position = self.store.position(self.reviewer)
        if position and position[0] in self._row_index:
            self.open_report(position[0], cursor=position[1])
        else:
            self.open_report(self.rows[0].report_id)
        self.view.focus()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Handlers run subclass first: this one before Screen's own, which would style every
        # widget again on the first resume, just after each was styled as it mounted.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_resize(self) -> None:
        self._fit_panes(self.size.width)

    def _fit_panes(self, width: int) -> None:
        """Show the side panes the width has room for (unless the reviewer chose)."""
        if self._layout_chosen:
            return
        self.query_one("#queue-pane").display = width >= QUEUE_MIN_WIDTH
        self.query_one("#spans").display = width >= SPANS_MIN_WIDTH and bool(self.rows)

    # --- the queue ----------------------------------------------------------------------------

    def refresh_queue(self, *, count: bool = True) -> None:
        """Read the queue: the reports assigned to the reviewer (every report when none is),
        titles and statuses now, span counts in a worker (counting 200,000 spans takes a
        noticeable moment; the rows show their counts when it is done). ``count=False``:
        the caller starts the count itself."""
        self.read_team()
        self._read_rows()
        if count:
            self._count_spans()

    def _read_rows(self, *, follow: bool = True) -> None:
        """The queue's rows from the store, in import order; counts as last known."""
        statuses = self.store.statuses(self.reviewer)
        titles = self.store.report_titles()
        if self.assigned is not None:
            titles = [(rid, title) for rid, title in titles if rid in self.assigned]
        todo, row_counts = Status.TODO, self.row_counts
        # tuple.__new__ straight, not the NamedTuple's generated __new__ (a lambda calling it
        # with the same tuple): 10,000 rows at start in 60% of the time.
        new = tuple.__new__
        self.rows = [
            new(QueueRow, (rid, title, statuses.get(rid, todo), row_counts(rid)))
            for rid, title in titles
        ]
        self._row_index = {rid: i for i, (rid, _) in enumerate(titles)}
        self._show_queue(follow=follow)

    def _count_spans(self) -> None:
        self.recounted.clear()  # reports counted from here on are newer than its snapshot
        self._count_worker()

    @work(thread=True, exclusive=True, group="counts")
    def _count_worker(self) -> None:
        worker = get_current_worker()

        def cancelled() -> bool:  # the app is closing: stop, do not keep it waiting
            return worker.is_cancelled

        # A sqlite connection belongs to one thread: this one opens its own.
        try:
            with self.store.for_thread() as store, store.interruptible(cancelled):
                counts = layer_counts(store)
        except Cancelled:
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_counts, counts)

    def _show_counts(self, counts: dict[str, dict[str, Counter[str]]]) -> None:
        for report_id in self.recounted:  # counted since its snapshot: newer
            counts[report_id] = self.span_layers.get(report_id, {})
        self.span_layers = counts
        self.rows = [row._replace(counts=self.row_counts(row.report_id)) for row in self.rows]
        self._show_queue(follow=False)

    def _show_queue(self, *, follow: bool = True) -> None:
        """Show the rows the filter lets through; ``follow``: scroll to the current report
        (a refresh leaves the queue's scroll where the reviewer put it)."""
        statuses, text, error = parse_filter(self.query_one("#queue-filter", Input).value)
        current = self.report.id if self.report else None
        queue = self.query_one(ReportQueue)
        if statuses or text:
            shown = [row for row in self.rows if matches(row, statuses, text)]
            index = None
        else:  # every row, in order: the queue can look rows up in the screen's own index
            shown, index = list(self.rows), self._row_index
        queue.set_rows(shown, current, follow=follow, index=index)
        # While the filter is typed, a half-typed status is said in the title, not in a pop-up.
        queue.border_title = Content(one_line(error or f"Reports {len(shown)}/{len(self.rows)}"))

    def _update_row(self, report_id: str, **changes) -> None:
        """One report's row changed (its counts or status): see :meth:`_update_rows`."""
        self._update_rows({report_id: changes})

    def _update_rows(self, changes: dict[str, dict]) -> None:
        """Rows changed (their counts or status): redraw them where they are, or filter the
        queue again when a filter might now leave them out or let them in."""
        changed = [i for i in map(self._row_index.get, changes) if i is not None]
        for i in changed:
            row = self.rows[i]
            self.rows[i] = row._replace(**changes[row.report_id])
        if not changed:
            return
        if self.query_one("#queue-filter", Input).value.strip():
            self._show_queue(follow=False)
            return
        queue = self.query_one(ReportQueue)
        for i in changed:
            queue.rows[i] = self.rows[i]  # unfiltered: the queue shows self.rows in order
        queue.redraw()

    @on(RowList.Highlighted, "#queue")
    def _queue_moved(self, event: RowList.Highlighted) -> None:
        if self.report is None or event.key != self.report.id:
            self.open_report(event.key)

    @on(RowList.Selected, "#queue")
    def _queue_chosen(self, event: RowList.Selected) -> None:
        if self.report is None or event.key != self.report.id:
            self.open_report(event.key)
        self.view.focus()

    @on(Input.Changed, "#queue-filter")
    def _filter_changed(self) -> None:
        self._show_queue()

    @on(Input.Submitted, "#queue-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        error = parse_filter(event.value)[2]
        if error:
            self.notify(error, severity="warning", markup=False)
            return
        self.query_one(ReportQueue).focus()

    @on(LineInput.Cancelled, "#queue-filter")
    def _filter_cancelled(self) -> None:
        self.query_one("#queue-filter", Input).value = ""
        self.query_one(ReportQueue).focus()

    def action_filter_queue(self) -> None:
        self.query_one("#queue-pane").display = True
        self._layout_chosen = True
        self.query_one("#queue-filter").focus()

    # --- opening reports ----------------------------------------------------------------------

    def open_report(self, report_id: str, *, cursor: int = 0, select: Span | None = None) -> None:
        """Show a report (saving where the reviewer was in the one before)."""
        self._leave_report()
        report = self.store.report(report_id)
        self.report = report
        self.opened_at = time.monotonic()
        self.all_spans = self.store.spans(report_id)
        self.spans = self.shown_spans(self.all_spans)
        self.view.show(report.text, self.spans, self.reviewer, cursor)
        self._cursor = self.view.offset  # before it is remembered below
        if select is not None:
            self.view.select_range(select.start, select.end)
        self.query_one("#meta", Static).update(_meta(report))
        self._show_spans(select.id if select else None)
        self.count_layers(report_id, self.all_spans)
        queue = self.query_one(ReportQueue)
        if queue.highlighted_key != report_id:
            queue.highlight(report_id)
        if not self.save_failed and self.saved.startswith("✓"):
            self.saved = "✓ all saved"  # the last message was about another report
        self._remember()
        self.update_status()

    def _leave_report(self) -> None:
        if self.report is None:
            return
        seconds = min(time.monotonic() - self.opened_at, MAX_SECONDS_PER_VISIT)
        self._try(lambda: self.store.add_time(self.report.id, self.reviewer, seconds))

    def _remember(self) -> None:
        if self.report is not None:
            report_id, cursor = self.report.id, self._cursor
            self._try(lambda: self.store.save_position(self.reviewer, report_id, cursor))

    def on_unmount(self) -> None:
        self._leave_report()
        self._remember()

    def _reload(self, select: Span | None = None, changes: Iterable[Change] | None = None) -> None:
        """Show the current report's spans after a change and repaint: the ``changes`` an
        action just committed are applied to the spans held (as the store orders them:
        by place, then as written), anything else reads them again."""
        assert self.report is not None
        if changes is None:
            self.all_spans = self.store.spans(self.report.id)
        else:
            self.all_spans = applied(self.all_spans, changes, self.report.id)
        self.spans = self.shown_spans(self.all_spans)
        self.view.set_spans(self.spans, self.reviewer)
        if select is not None:
            self.view.select_range(select.start, select.end)
        self._show_spans(select.id if select else None)
        self.count_layers(self.report.id, self.all_spans)

    def _show_spans(self, current: str | None = None, *, follow: bool = True) -> None:
        span_list = self.query_one(SpanList)
        span_list.set_spans(self.spans, self.reviewer, current, follow=follow)
        mine = sum(1 for s in self.spans if s.reviewer == self.reviewer)
        others = f" / {len(self.spans)}" if self.others_visible() else ""
        span_list.border_title = f"Spans {mine} yours{others}"

    @on(RowList.Highlighted, "#spans")
    def _span_highlighted(self, event: RowList.Highlighted) -> None:
        span = next((s for s in self.spans if s.id == event.key), None)
        if span is not None:
            self.view.select_range(span.start, span.end)

    @on(RowList.Selected, "#spans")
    def _span_chosen(self, event: RowList.Selected) -> None:
        self._span_highlighted(event)
        self.view.focus()

    # --- moving through the work --------------------------------------------------------------

    def _step(self, step: int) -> None:
        queue = self.query_one(ReportQueue)
        ids = queue.keys
        if not ids or self.report is None:
            return
        here = queue.index_of(self.report.id)
        target = (here if here is not None else -1) + step
        if 0 <= target < len(ids):
            self.open_report(ids[target])
        else:
            self.notify("first report of the queue" if step < 0 else "last report of the queue")

    def action_next_report(self) -> None:
        self._step(1)

    def action_previous_report(self) -> None:
        self._step(-1)

    def action_next_todo(self) -> bool:
        """Open the next report (after this one, wrapping) that is neither done nor flagged."""
        ids = self.rows
        if not ids:
            return False
        here = self._row_index.get(self.report.id, -1) if self.report else -1
        open_ = {Status.TODO, Status.IN_PROGRESS}
        for i in range(1, len(ids) + 1):
            row = self.rows[(here + i) % len(ids)]
            if row.status in open_ and (self.report is None or row.report_id != self.report.id):
                self.open_report(row.report_id)
                return True
        self.notify("No report left to do: every report is done or flagged.")
        return False

    def _set_status(self, status: Status, reason: str = "") -> bool:
        assert self.report is not None
        report_id = self.report.id
        i = self._row_index.get(report_id)
        before = self.rows[i].status if i is not None else None
        if not self._try(
            lambda: self.store.set_status(report_id, self.reviewer, status, reason=reason)
        ):
            return False
        self._update_row(report_id, status=status)
        if self.app.span_index is not None:
            with self.app.index_lock:
                self.app.span_index.set_status(report_id, self.reviewer, status)
        if Status.DONE in (before, status):  # done opens a blind report's other layers
            self.read_blind()
        self.update_status()
        return True

    def action_done(self) -> None:
        """Mark the report done and open the next to do; on a done report, reopen it."""
        if self.report is None:
            return
        name = one_line(self.report.id)
        if self.store.status(self.report.id, self.reviewer).status is Status.DONE:
            if self._set_status(Status.IN_PROGRESS):
                self.notify(f"{name} reopened: in progress again", markup=False)
            return
        if self._set_status(Status.DONE):
            self.notify(f"{name} done", markup=False)
            self.action_next_todo()

    def action_flag(self) -> None:
        """Flag the report with a reason and open the next to do; on a flagged report, an
        emptied reason takes the flag off."""
        if self.report is None:
            return
        from reviewer.tui.screens.dialogs import TextPrompt

        current = self.store.status(self.report.id, self.reviewer)
        was_flagged = current.status is Status.FLAGGED
        name = one_line(self.report.id)

        def flagged(reason: str | None) -> None:
            if reason is None:
                return
            if not reason:
                if was_flagged and self._set_status(Status.IN_PROGRESS):
                    self.notify(f"{name} unflagged: in progress again", markup=False)
                elif not was_flagged:
                    self.notify("Not flagged: a flag needs a reason.", severity="warning")
                return
            if self._set_status(Status.FLAGGED, reason):
                self.notify(f"{name} flagged: {one_line(reason)}", markup=False)
                self.action_next_todo()

        title = (
            "Flagged for discussion. Change the reason, or empty it to take the flag off:"
            if was_flagged
            else "Flag this report for discussion: why?"
        )
        self.app.push_screen(TextPrompt(title, current.flag_reason), flagged)

    def _mark_in_progress(self) -> None:
        """The first change to a report that is still to do puts it in progress."""
        assert self.report is not None
        row = next((r for r in self.rows if r.report_id == self.report.id), None)
        if row is not None and row.status is Status.TODO:
            self._set_status(Status.IN_PROGRESS)

    # --- saving, and saying so ----------------------------------------------------------------

    def _try(self, write) -> object | None:
        """Run one store call; on failure say so (status line and a notification) and return
        ``None``. Returns the call's result, or True when it has none."""
        try:
            result = write()
        except (ReviewerError, sqlite3.Error) as exc:
            self.saved = f"✗ NOT SAVED: {exc}"
            self.save_failed = True
            self.notify(f"Not saved: {exc}", severity="error", markup=False)
            self.update_status()
            return None
        return True if result is None else result

    def _saved(self, message: str) -> None:
        """A change is in the database: the status line says so (no pop-up: tagging is
        frequent, and a toast would cover the text)."""
        self.saved = f"✓ saved {datetime.now():%H:%M:%S} {message}"
        self.save_failed = False
        self._remember()
        self.update_status()

    def _message(self, message: str) -> None:
        """Say something in the status line (where the last save is said), not in a pop-up
        that would cover it."""
        self.saved = f"✓ all saved · {message}" if not self.save_failed else self.saved
        self.update_status()

    def update_status(self) -> None:
        if self.report is None:
            return
        i = self._row_index.get(self.report.id)
        position = i + 1 if i is not None else 0
        row = self.rows[i] if i is not None else None
        ids = self.rows
        status = (row.status if row else Status.TODO).value.replace("_", " ")
        view = self.view
        modes = ["words" if self.words_precision else "CHARS"]
        if view.extend:
            modes.append("EXTEND")
        if view.counting:
            modes.append(f"count {view.count or '…'}")
        if view.hints:
            modes.append("JUMP: type the letters")
        report = "report " if self.size.width >= 100 else ""  # at 80 columns, room for news
        where = (
            f" {self.reviewer} · {report}{position}/{len(ids)} · {status} · {self.layer_state()} · "
        )
        self.query_one("#status", Static).update(
            Content.assemble(
                one_line(where),
                (" ".join(modes), "bold reverse" if len(modes) > 1 else "bold"),
                " │ ",
                (one_line(self.saved), "bold red" if self.save_failed else "green"),
            )
        )

    @on(TextArea.SelectionChanged, "#text")
    def _cursor_moved(self) -> None:
        self._cursor = self.view.offset

    @on(ReportView.ModeChanged)
    def _mode_changed(self) -> None:
        self.update_status()

    # --- panes, find, help --------------------------------------------------------------------

    def action_toggle_queue(self) -> None:
        pane = self.query_one("#queue-pane")
        pane.display = not pane.display
        self._layout_chosen = True
        self.call_after_refresh(self.view.scroll_cursor_visible)
        if pane.display:
            self.query_one(ReportQueue).focus()
        else:
            self.view.focus()

    def action_toggle_spans(self) -> None:
        pane = self.query_one(SpanList)
        pane.display = not pane.display
        self._layout_chosen = True
        self.call_after_refresh(self.view.scroll_cursor_visible)
        if pane.display:
            pane.focus()
        else:
            self.view.focus()

    def action_find(self) -> None:
        bar = self.query_one("#find", Input)
        self._find_origin = self.view.offset
        bar.value = ""
        bar.display = True
        bar.focus()

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        query = event.value
        hits = self._matches(query)
        hit = self._first_match(hits)
        if hit is not None:
            self.view.select_range(hit, hit + len(query))
        count = len(hits)
        self.query_one("#find", Input).border_title = (
            ""
            if not query
            else "no match"
            if hit is None
            else f"{count} match{'es' * (count != 1)}"
        )

    def _matches(self, query: str) -> list[int]:
        if not query or self.report is None:
            return []
        return find_all(self.report.text, query)  # a match is as long as the query

    def _first_match(self, hits: list[int]) -> int | None:
        """The first match at or after where find started, else the first (wrapping)."""
        after = [h for h in hits if h >= self._find_origin]
        return after[0] if after else hits[0] if hits else None

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        bar = self.query_one("#find", Input)
        bar.display = False
        self.view.focus()
        hit = self._first_match(self._matches(event.value))
        if hit is None:
            if event.value:
                self.notify("Not found in this report.", severity="warning")
            self.view.place(self._find_origin)
            return
        self.view.select_range(hit, hit + len(event.value))

    @on(LineInput.Cancelled, "#find")
    def _find_cancelled(self) -> None:
        self.query_one("#find").display = False
        self.view.place(self._find_origin)
        self.view.focus()

    def action_help(self) -> None:
        from reviewer.tui.screens.help import HelpScreen

        labels = [
            Binding(label.key, "", f"Tag as {label.name} (on a span: change its label)")
            for label in self.labels.labels
            if label.key
        ]
        sections = [
            ("Labels", labels),
            (
                "Moving and selecting in the text",
                [b for b in ReportView.BINDINGS if isinstance(b, Binding)],
            ),
            ("Spans, reports and panes", [b for b in self.BINDINGS if isinstance(b, Binding)]),
            ("Everywhere", self.app.help_bindings()),
        ]
        intro = (
            "A label key tags the selection, or the word under the cursor; on one of your spans "
            "it changes its label. Selections snap to whole words (c: character precision)."
        )
        self.app.push_screen(HelpScreen(sections, intro))

    def after_change(self, result: ActionResult, message: str, select: Span | None) -> None:
        self.app.index_change(result)
        self._reload(select, result.changes)
        self.recount(
            {c.report_id for c in result.changes} - {self.report.id if self.report else None}
        )
        self._mark_in_progress()
        self._saved(message)

    def changed(self, result: ActionResult) -> None:
        """Spans changed elsewhere (tagged from the search screen): the index, the queue's
        counts, and the open report if it is among them."""
        self.app.index_change(result)
        n = len(result.changes)
        current = self.report.id if self.report else None
        touched = {c.report_id for c in result.changes}
        if current in touched:
            self._reload(changes=result.changes)
        self.recount(touched - {current})
        self._saved(f"{n} span{'s' * (n != 1)} changed")

    def action_search(self) -> None:
        from reviewer.tui.screens.search import SearchScreen

        if self._search is None:
            # Installed, so that popping it keeps it (and its query and results) for next time.
            self._search = SearchScreen(self)
            self.app.install_screen(self._search, "search")
        self.app.push_screen("search")


def _meta(report: Report) -> Content:
    """Title, then journal, date, DOI and id on one line, as literal text: report metadata is
    untrusted, so it is never parsed as markup, and :func:`one_line` keeps control characters
    off the terminal."""
    details = [p for p in (report.journal, report.published) if p]
    if report.doi:
        details.append(f"doi:{report.doi}")
    details.append(f"{report.id} · {len(report.text):,} characters")
    if report.duplicate_of:
        details.append(f"duplicate of {report.duplicate_of}")
    return Content.assemble(
        (one_line(report.display_title), "bold"),
        "\n",
        (one_line(" · ".join(details)), "dim italic"),
    )
