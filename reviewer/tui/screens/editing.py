"""The review screen's span actions: tag, relabel, delete, note, attributes, boundaries, undo.

Which span a key acts on: one of the reviewer's own spans exactly covering the selection, else
(with nothing selected) the reviewer's innermost span under the cursor. Other reviewers' spans
are shown but never changed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewer.core.model import Span
from reviewer.core.text import one_line
from reviewer.tui.clipboard import copy
from reviewer.tui.widgets.span_list import SpanList

if TYPE_CHECKING:
    from reviewer.tui.screens.review import ReviewScreen


def _quoted(span: Span) -> str:
    text = one_line(span.text)
    return one_line(f"{span.label} “{text if len(text) <= 40 else text[:39] + '…'}”")


class EditingMixin:
    """Span actions of :class:`ReviewScreen` (kept apart so the screen stays readable)."""

    # --- which span -----------------------------------------------------------------------------

    def _target(self: ReviewScreen) -> tuple[Span | None, tuple[int, int] | None]:
        """The own span a key acts on, and the selection (``None`` when nothing is selected)."""
        selected = self.view.selected_range()
        mine = [s for s in self.spans if s.reviewer == self.reviewer]
        if selected is not None:
            exact = [s for s in mine if (s.start, s.end) == selected]
            return (exact[0] if exact else None), selected
        at = [s for s in self.view.spans_at(self.view.offset) if s.reviewer == self.reviewer]
        return (at[0] if at else None), None

    def _need_span(self: ReviewScreen) -> Span | None:
        span, selected = self._target()
        if span is None:
            others = [
                s for s in self.view.spans_at(self.view.offset) if s.reviewer != self.reviewer
            ]
            if others and selected is None:
                self.notify(
                    f"That span is {one_line(others[0].reviewer)}'s: you change only your own "
                    "(tag the same words to add yours).",
                    severity="warning",
                    markup=False,
                )
            else:
                self.notify("Move onto one of your spans first (s: next span).", severity="warning")
        return span

    def _range(self: ReviewScreen, selected: tuple[int, int]) -> tuple[int, int] | None:
        words = self.view.words
        return words.snap(*selected) if self.words_precision else words.strip(*selected)

    # --- tagging ------------------------------------------------------------------------------

    def action_label(self: ReviewScreen, index: int) -> None:
        if self.report is None:
            return
        label = self.labels.labels[index].name
        span, selected = self._target()
        if span is not None:
            if span.label == label:
                self.notify(f"Already {_quoted(span)}.", markup=False)
                return
            self._update(span, f"{_quoted(span)} → {label}", label=label)
            return
        if selected is not None:
            where = self._range(selected)
            if where is None:
                self.notify("Nothing to tag: the selection holds no word.", severity="warning")
                return
        else:
            where = self.view.words.word_at(self.view.offset)
            if where is None:
                self.notify(
                    "No word under the cursor: move onto one, or select text first.",
                    severity="warning",
                )
                return
        start, end = where
        same = [
            s
            for s in self.spans
            if s.reviewer == self.reviewer and (s.start, s.end) == where and s.label == label
        ]
        if same:
            self.notify(f"Already {_quoted(same[0])}.", markup=False)
            return
        new = Span(self.report.id, start, end, label, self.report.text[start:end], self.reviewer)
        result = self._try(lambda: self.store.add_span(new))
        if result:
            added = result.changes[0].after  # type: ignore[union-attr]
            self.view.extend = False
            self.after_change(result, f"Tagged {_quoted(added)}", None)
            self.view.place(start)

    def _update(self: ReviewScreen, span: Span, message: str, **changes) -> None:
        result = self._try(lambda: self.store.update_span(span.id, self.reviewer, **changes))
        if result:
            after = result.changes[0].after  # type: ignore[union-attr]
            self.after_change(result, f"{message} (u undoes)", after)

    def action_delete(self: ReviewScreen) -> None:
        span = self._need_span()
        if span is None:
            return
        result = self._try(lambda: self.store.delete_span(span.id, self.reviewer))
        if result:
            self.after_change(result, f"Deleted {_quoted(span)} (u undoes)", None)
            self.view.place(span.start)

    def action_note(self: ReviewScreen) -> None:
        from reviewer.tui.screens.dialogs import TextPrompt

        span = self._need_span()
        if span is None:
            return

        def save(note: str | None) -> None:
            if note is not None and note != span.note:
                self._update(span, f"Note on {_quoted(span)} saved", note=note)

        self.app.push_screen(TextPrompt(f"Note on {_quoted(span)}", one_line(span.note)), save)

    def action_attributes(self: ReviewScreen) -> None:
        from reviewer.tui.screens.dialogs import AttributesDialog

        span = self._need_span()
        if span is None:
            return

        def save(attributes: dict | None) -> None:
            if attributes is not None and attributes != span.attributes:
                shown = ", ".join(k for k, v in sorted(attributes.items()) if v is True) or "none"
                self._update(span, f"{_quoted(span)}: {shown}", attributes=attributes)

        self.app.push_screen(AttributesDialog(one_line(span.text), span.attributes), save)

    # --- boundaries ---------------------------------------------------------------------------

    def action_edge(self: ReviewScreen, edge: str, grow: bool) -> None:
        span, selected = self._target()
        base = (span.start, span.end) if span else selected
        if base is None:
            self.notify("Select text or move onto one of your spans first.", severity="warning")
            return
        if self.words_precision:
            new = self.view.words.move_edge(*base, edge, grow)
        else:
            start, end = base
            step = -1 if grow == (edge == "start") else 1
            start, end = (start + step, end) if edge == "start" else (start, end + step)
            new = (start, end) if 0 <= start < end <= len(self.view.text) else None
        if new is None:
            self.notify("That edge cannot move further.", severity="warning")
            return
        if span is None:
            self.view.select_range(*new)
            return
        start, end = new
        self._update(
            span,
            f"{span.label} is now “{one_line(self.view.text[start:end])}”",
            start=start,
            end=end,
        )

    # --- moving between spans -----------------------------------------------------------------

    def _span_step(self: ReviewScreen, step: int) -> None:
        """Select the next (or previous) stretch of text that holds a span. Spans of several
        reviewers on the same words are one stop; yours is the one the list highlights."""
        extents = sorted({(s.start, s.end) for s in self.spans})
        if not extents:
            self.notify("No spans in this report yet.")
            return
        selected = self.view.selected_range()
        if selected in extents:
            i = extents.index(selected) + step
        else:
            at = self.view.offset
            later = [i for i, (a, _) in enumerate(extents) if a >= at]
            earlier = [i for i, (a, _) in enumerate(extents) if a < at]
            if step > 0:
                i = later[0] if later else len(extents)
            else:
                i = earlier[-1] if earlier else -1
        if not 0 <= i < len(extents):
            self._message("No more spans that way.")
            return
        start, end = extents[i]
        self.view.select_range(start, end)
        here = [s for s in self.spans if (s.start, s.end) == (start, end)]
        here.sort(key=lambda s: s.reviewer != self.reviewer)
        self.query_one(SpanList).highlight(here[0].id)

    def action_next_span(self: ReviewScreen) -> None:
        self._span_step(1)

    def action_previous_span(self: ReviewScreen) -> None:
        self._span_step(-1)

    # --- undo and redo --------------------------------------------------------------------------

    def _replay(self: ReviewScreen, kind: str) -> None:
        call = self.store.undo if kind == "undo" else self.store.redo
        result = self._try(lambda: call(self.reviewer))
        if result is True:  # the store had nothing to replay
            self._message(f"Nothing to {kind}")
            return
        if not result:
            return
        change = result.changes[0]
        span = change.after or change.before
        assert span is not None
        if self.report is None or span.report_id != self.report.id:
            self.open_report(span.report_id)
        shown = change.after
        n = len(result.changes)
        if kind == "undo":  # an undo's changes are the original's, reversed
            what = {True: "tag", False: "deletion"}.get(change.after is None, "")
            if change.before is not None and change.after is not None:
                what = "change"
            message = f"Undid {what} of {_quoted(span)}"
        else:
            what = (
                "tag" if change.before is None else "deletion" if change.after is None else "change"
            )
            message = f"Redid {what} of {_quoted(span)}"
        if n > 1:
            message += f" and {n - 1} more"
        self.after_change(result, message, shown)
        if shown is None:
            self.view.place(span.start)

    def action_undo(self: ReviewScreen) -> None:
        self._replay("undo")

    def action_redo(self: ReviewScreen) -> None:
        self._replay("redo")

    # --- clipboard and precision ----------------------------------------------------------------

    def action_copy(self: ReviewScreen) -> None:
        selected = self.view.selected_range()
        if selected is not None:
            text = self.view.text[selected[0] : selected[1]]
        else:
            span, _ = self._target()
            spans = self.view.spans_at(self.view.offset)
            span = span or (spans[0] if spans else None)
            word = self.view.words.word_at(self.view.offset)
            if span is None and word is None:
                self.notify("Nothing to copy: select text or move onto a span.", severity="warning")
                return
            text = span.text if span else self.view.text[word[0] : word[1]]  # type: ignore[index]
        where = copy(self.app, text)
        self.notify(f"Copied {len(text)} characters to {where}.", markup=False, timeout=3)

    def action_copy_citation(self: ReviewScreen) -> None:
        if self.report is None:
            return
        where = copy(self.app, self.report.citation())
        self.notify(f"Copied the citation to {where}.", markup=False, timeout=3)

    def action_toggle_precision(self: ReviewScreen) -> None:
        self.words_precision = not self.words_precision
        self.notify(
            "Selections snap to whole words."
            if self.words_precision
            else "Character precision: selections are tagged as made."
        )
        self.update_status()
