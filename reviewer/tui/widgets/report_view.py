"""The report text, read-only, with spans painted in their label's colour."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import TextArea

from reviewer.core.model import LabelSchema, Span


class ReportView(TextArea):
    """A read-only ``TextArea`` that paints spans over the report text.

    The text is the stored, normalised text, so every offset is a code point of it and
    ``Document`` rows are exactly its ``\\n``-separated lines. Where spans overlap, the region is
    also underlined, so an overlap is never hidden by the span painted last.
    """

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__("", read_only=True, soft_wrap=True, **kwargs)
        self.labels = labels
        self._spans: list[Span] = []
        self._styles = {
            label.name: Style(color="#1c1c1c", bgcolor=label.color) for label in labels.labels
        }

    def show(self, text: str, spans: list[Span]) -> None:
        """Show a report's text and spans; the cursor goes to the top."""
        self._spans = sorted(spans, key=lambda s: (s.start, -s.end))
        self.load_text(text)
        self.move_cursor((0, 0))
        self.scroll_home(animate=False)

    @property
    def spans(self) -> list[Span]:
        return list(self._spans)

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        start = self.document.get_index_from_location((line_index, 0))
        end = start + len(line.plain)
        covered: list[tuple[int, int]] = []
        for span in self._spans:
            if span.start >= end + 1:
                break
            if span.end <= start:
                continue
            for piece_start, piece_end in span.pieces:  # a discontinuous span: each fragment
                a, b = max(piece_start, start) - start, min(piece_end, end) - start
                if a >= b:
                    continue
                line.stylize(self._styles.get(span.label, Style(reverse=True)), a, b)
                for c, d in covered:
                    lo, hi = max(a, c), min(b, d)
                    if lo < hi:
                        line.stylize(Style(underline=True, bold=True), lo, hi)
                covered.append((a, b))
        return line
