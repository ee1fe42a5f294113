"""The spans of the current report, one line each: label, text, attributes, reviewer, note."""

from __future__ import annotations

from textual.content import Content

from reviewer.core.model import LabelSchema, Span
from reviewer.core.text import one_line
from reviewer.tui.widgets.rows import RowList


class SpanList(RowList):
    """One row per span in document order, known by span id. Span text and notes are
    untrusted, so rows are ``Content`` pieces, never markup. Your spans are in bold; others'
    name their reviewer."""

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels = labels
        self.spans: list[Span] = []
        self.reviewer = ""

    def set_spans(
        self, spans: list[Span], reviewer: str, current: str | None = None, *, follow: bool = True
    ) -> None:
        self.spans = spans
        self.reviewer = reviewer
        self.set_keys([s.id for s in spans], current, follow=follow)

    def render_row(self, index: int, line: int) -> Content:
        span = self.spans[index]
        label = self.labels.get(span.label)
        color = label.color if label else "white"
        own = span.reviewer == self.reviewer
        parts: list[str | tuple[str, str]] = [
            (f"{one_line(span.label):<10.10}", f"bold {color}"),
            " ",
            (one_line(span.text), "bold" if own else ""),
        ]
        flags = [k for k, v in sorted(span.attributes.items()) if v is True]
        if flags:
            parts += ["  ", (one_line(" ".join(flags)), "italic")]
        if not own:
            parts += ["  ", (one_line(span.reviewer), "dim")]
        if span.note:
            parts += ["  ", ("✎ " + one_line(span.note), "dim italic")]
        return Content.assemble(*parts)
