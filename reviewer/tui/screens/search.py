"""The search screen (``/``): fuzzy search of the annotated spans, or of the report text.

Results update as you type; the search runs in an exclusive worker, so each keystroke cancels
the search before it. Span mode lists groups of spans by folded text; opening a group lists its
occurrences with their context. Text mode lists places in the reports, marked by whether they
are tagged; a label key tags the chosen places (one action: one undo takes them all back).
Everything shown from reports is ``Content``, never markup.
"""

from __future__ import annotations

import time
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from reviewer.core.model import ReviewerError, Span
from reviewer.core.search import Group, SpanHit, TextHit, parse_query, text_search
from reviewer.core.text import context, one_line
from reviewer.tui.widgets.rows import ContentRows, RowList, key_name

SHOWN = 200  # occurrences listed for one group


def snippet(text: str, start: int, end: int, width: int = 32) -> Content:
    """The match with context on one line: a little before it (so that it shows even in a
    narrow pane), more after."""
    left, _ = context(text, start, end, min(width, 10))
    _, right = context(text, start, end, width)
    return Content.assemble(
        (one_line(left), "dim"),
        (one_line(text[start:end]), "bold reverse"),
        (one_line(right), "dim"),
    )


class SearchScreen(Screen):
    """Search across every report; enter opens the report at the hit."""

    BINDINGS = [
        Binding("escape", "back", "Back to the report"),
        Binding("ctrl+t", "toggle_mode", "Spans/text"),
        Binding("down", "results", "Results", show=False),
        Binding("space", "choose", "Choose hit", show=False),
        Binding("ctrl+a", "choose_all", "Choose every untagged best match", show=False),
    ]

    def __init__(self, review) -> None:  # review: ReviewScreen
        super().__init__()
        self.review = review
        self.text_mode = False
        self.span_hits: list[SpanHit] = []
        self.text_hits: list[TextHit] = []
        self.chosen: set[str] = set()
        self.occurrences: list[Span] = []
        self._texts: dict[str, str] = {}
        for i, label in enumerate(review.labels.labels):
            if label.key:
                self._bindings.bind(
                    key_name(label.key), f"tag({i})", f"Tag as {label.name}", show=False
                )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(
                placeholder="search spans (ctrl+t: text) — label:drug reviewer:NAME status:done",
                id="query",
            )
            yield Static(id="search-status")
            with Horizontal():
                yield ContentRows(id="hits")
                yield ContentRows(id="occurrences")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query").focus()
        self._say()

    # --- searching ----------------------------------------------------------------------------

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        self.action_results()

    def run_search(self, raw: str) -> None:
        try:
            query = parse_query(raw, self.review.labels.names)
        except ReviewerError as exc:
            self._say(str(exc), error=True)
            return
        if not query.text and not query.has_filters:
            self._show_spans([], 0.0) if not self.text_mode else self._show_text([], 0.0)
            self._say()
            return
        self._search(query, self.text_mode)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query, text_mode: bool) -> None:
        worker = get_current_worker()
        start = time.perf_counter()
        app = self.app
        try:
            if text_mode:
                # A sqlite connection belongs to one thread: this search opens its own.
                with self.review.store.for_thread() as store:
                    hits = text_search(store, query, vocabulary=app.vocabulary, limit=200)
                hits = self._blinded_text(hits)
            else:
                index = app.span_index
                if index is None:
                    app.call_from_thread(self._say, "Building the search index…")
                    return
                with app.index_lock:  # the main thread applies changes to it
                    hits = self._blinded_spans(index.search(query, 100))
        except ReviewerError as exc:
            app.call_from_thread(self._say, str(exc), True)
            return
        took = time.perf_counter() - start
        if not worker.is_cancelled:
            show = self._show_text if text_mode else self._show_spans
            app.call_from_thread(show, hits, took)

    # --- blind sessions: others' spans on a report not yet done are not shown here either ----

    def _blinded_spans(self, hits: list[SpanHit]) -> list[SpanHit]:
        blind, me = self.review.blind, self.review.reviewer  # (replaced, never changed)
        if not blind:
            return hits
        out = []
        for hit in hits:
            if blind.isdisjoint(hit.reports):
                out.append(hit)
                continue
            keep = [s for s in hit.spans if s.reviewer == me or s.report_id not in blind]
            if keep:  # the group's counts, of what may be shown
                out.append(SpanHit(Group(hit.key), hit.score, keep))
        return out

    def _blinded_text(self, hits: list[TextHit]) -> list[TextHit]:
        blind, me = self.review.blind, self.review.reviewer
        if not blind:
            return hits
        return [
            replace(
                h, spans=tuple(s for s in h.spans if s.reviewer == me or h.report_id not in blind)
            )
            for h in hits
        ]

    def _say(self, message: str = "", error: bool = False) -> None:
        if not message:
            mode = "text of the reports" if self.text_mode else "annotated spans"
            message = (
                f"Searching the {mode}. Type; ↓ or enter: the results; ctrl+t: "
                f"{'spans' if self.text_mode else 'text'}; escape: back."
            )
        self.query_one("#search-status", Static).update(
            Content.assemble((one_line(message), "bold red" if error else "dim"))
        )

    def _show_spans(self, hits: list[SpanHit], took: float) -> None:
        self.span_hits = hits
        rows = []
        for hit in hits:
            labels = one_line(", ".join(f"{name} {n}" for name, n in hit.labels.most_common()))
            reports = hit.report_count
            rows.append(
                Content.assemble(
                    (f"{hit.score:3.0f} ", "dim"),
                    (one_line(hit.text), "bold"),
                    "  ",
                    (labels, "italic"),
                    (f"  · {hit.count} in {reports} report{'s' * (reports != 1)}", "dim"),
                    (f"  · {one_line(', '.join(hit.reviewers))}", "dim"),
                )
            )
        self.query_one("#hits", ContentRows).set_rows([h.key for h in hits], rows)
        self.query_one("#occurrences").display = True
        self._show_occurrences(hits[0] if hits else None)
        self._say(f"{len(hits)} groups of spans · {took * 1000:.0f} ms")

    def _show_text(self, hits: list[TextHit], took: float) -> None:
        self.text_hits = hits
        self.chosen.clear()
        self._redraw_text()
        self.query_one("#occurrences").display = False
        tagged = sum(1 for h in hits if h.tagged_by(self.review.reviewer))
        self._say(
            f"{len(hits)} places in the text ({tagged} tagged by you) · {took * 1000:.0f} ms · "
            "in the list (↓): space chooses, ctrl+a every untagged best match, a label key tags"
        )

    def _text_key(self, hit: TextHit) -> str:
        return f"{hit.report_id}\x1f{hit.start}\x1f{hit.end}"

    def _redraw_text(self) -> None:
        rows, keys = [], []
        me = self.review.reviewer
        for hit in self.text_hits:
            key = self._text_key(hit)
            keys.append(key)
            mark = "[x] " if key in self.chosen else "[ ] "
            if hit.tagged_by(me):
                state = ("✓ yours ", "green")
            elif hit.spans:
                state = (
                    one_line("· " + ",".join(sorted({s.label for s in hit.spans})) + " "),
                    "yellow",
                )
            else:
                state = ("untagged ", "dim")
            text = self._text(hit.report_id)
            rows.append(
                Content.assemble(
                    (mark, "bold"),
                    state,
                    (one_line(hit.report_id) + "  ", "dim"),
                    snippet(text, hit.start, hit.end, 24),
                )
            )
        hits = self.query_one("#hits", ContentRows)
        hits.set_rows(keys, rows, hits.highlighted_key)

    def _text(self, report_id: str) -> str:
        if report_id not in self._texts:
            self._texts[report_id] = self.review.store.report_text(report_id)
        return self._texts[report_id]

    def _show_occurrences(self, hit: SpanHit | None) -> None:
        self.occurrences = hit.first(SHOWN) if hit else []
        rows = [
            Content.assemble(
                (one_line(f"{s.label} "), "italic"),
                (f"{one_line(s.reviewer)} ", "dim"),
                (f"{one_line(s.report_id)} ", "dim"),
                snippet(self._text(s.report_id), s.start, s.end),
            )
            for s in self.occurrences
        ]
        self.query_one("#occurrences", ContentRows).set_rows([s.id for s in self.occurrences], rows)

    # --- moving and opening -------------------------------------------------------------------

    def action_results(self) -> None:
        self.query_one("#hits").focus()

    @on(RowList.Highlighted, "#hits")
    def _hit_moved(self, event: RowList.Highlighted) -> None:
        if not self.text_mode:
            hit = next((h for h in self.span_hits if h.key == event.key), None)
            self._show_occurrences(hit)

    @on(RowList.Selected, "#hits")
    def _hit_chosen(self, event: RowList.Selected) -> None:
        if self.text_mode:
            hit = next((h for h in self.text_hits if self._text_key(h) == event.key), None)
            if hit is not None:  # (the results may have been replaced meanwhile)
                self._open(hit.report_id, hit.start, hit.end)
        else:
            self.query_one("#occurrences").focus()

    @on(RowList.Selected, "#occurrences")
    def _occurrence_chosen(self, event: RowList.Selected) -> None:
        span = next((s for s in self.occurrences if s.id == event.key), None)
        if span is not None:
            self._open(span.report_id, span.start, span.end)

    def _open(self, report_id: str, start: int, end: int) -> None:
        """Back to the review screen, the report open and the hit selected; ``/`` comes back
        here as it was."""
        self.app.pop_screen()
        self.review.open_report(report_id)
        self.review.view.select_range(start, end)
        self.review.view.focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_mode(self) -> None:
        self.text_mode = not self.text_mode
        self.chosen.clear()
        self._say()
        self.run_search(self.query_one("#query", Input).value)

    # --- tagging from the text results --------------------------------------------------------

    def action_choose(self) -> None:
        key = self.query_one("#hits", ContentRows).highlighted_key
        if not self.text_mode or key is None:
            return
        self.chosen.symmetric_difference_update({key})
        self._redraw_text()

    def action_choose_all(self) -> None:
        if not self.text_mode:
            return
        me = self.review.reviewer
        # The best matches only (whole words of the query, or of the word a typo meant): a
        # typo's other neighbours ("plus" for "lupus") or a part of a longer word are chosen
        # one by one, after a look.
        best = max((h.score for h in self.text_hits), default=0)
        untagged = {
            self._text_key(h) for h in self.text_hits if not h.tagged_by(me) and h.score == best
        }
        self.chosen = set() if untagged <= self.chosen else untagged
        self._redraw_text()

    def action_tag(self, index: int) -> None:
        if not self.text_mode or not self.text_hits:
            self.notify("Tagging from search works on text results (ctrl+t).", severity="warning")
            return
        label = self.review.labels.labels[index].name
        me = self.review.reviewer
        keys = self.chosen or {self.query_one("#hits", ContentRows).highlighted_key}
        hits = [h for h in self.text_hits if self._text_key(h) in keys and not h.tagged_by(me)]
        if not hits:
            self.notify("Nothing to tag: those places are already yours.", severity="warning")
            return
        spans = [Span(h.report_id, h.start, h.end, label, h.text, me) for h in hits]
        result = self.review._try(lambda: self.review.store.add_spans(spans, me))
        if not result:
            return
        self.review.changed(result)
        self.chosen.clear()
        self.text_hits = []  # until the search runs again: no second tagging of the same places
        self._redraw_text()
        n = len(spans)
        self.notify(
            f"Tagged {n} place{'s' * (n != 1)} as {label} (u undoes them together).", markup=False
        )
        self.run_search(self.query_one("#query", Input).value)
