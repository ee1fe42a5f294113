"""The spans of the current report: label, text, reviewer, attributes and note, one per row."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from reviewer.core.model import LabelSchema, Span
from reviewer.core.text import one_line

_SHOWN = 40  # characters of a span's text shown on its row


class SpanList(OptionList):
    """One row per span in document order; the option id is the span id. Span text and notes
    are untrusted, so rows are ``Content`` pieces, never markup."""

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels = labels

    def set_spans(self, spans: list[Span], reviewer: str, current: str | None = None) -> None:
        self.clear_options()
        self.add_options([Option(self._prompt(s, reviewer), id=s.id) for s in spans])
        ids = [s.id for s in spans]
        if current in ids:
            self.highlighted = ids.index(current)

    def _prompt(self, span: Span, reviewer: str) -> Content:
        label = self.labels.get(span.label)
        color = label.color if label else "white"
        text = one_line(span.text)
        if len(text) > _SHOWN:
            text = text[: _SHOWN - 1] + "…"
        parts: list[str | tuple[str, str]] = [
            (f"{span.label:<10.10}", f"bold {color}"),
            " ",
            (text, "bold" if span.reviewer == reviewer else ""),
        ]
        flags = [k for k, v in sorted(span.attributes.items()) if v is True]
        if flags:
            parts += ["  ", (" ".join(flags), "italic")]
        if span.reviewer != reviewer:
            parts += ["  ", (one_line(span.reviewer), "dim")]
        if span.note:
            parts += ["\n           ", ("✎ " + one_line(span.note)[:60], "dim italic")]
        return Content.assemble(*parts)
