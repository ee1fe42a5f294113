"""The report queue: one row per report with its status and span counts per label."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from reviewer.core.model import LabelSchema, Status
from reviewer.core.text import one_line

STATUS_MARKS = {
    Status.TODO: ("·", "dim"),
    Status.IN_PROGRESS: ("◐", "yellow"),
    Status.DONE: ("✓", "green"),
    Status.FLAGGED: ("⚑", "red"),
}


@dataclass(frozen=True)
class QueueRow:
    """What the queue shows of one report."""

    report_id: str
    title: str
    status: Status
    counts: Counter[str]


class ReportQueue(OptionList):
    """Reports in import order. Titles come from untrusted text, so rows are built as
    ``Content`` pieces and never parsed as markup."""

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels = labels

    def set_rows(self, rows: list[QueueRow]) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_options([Option(self._prompt(row), id=row.report_id) for row in rows])
        if rows:
            self.highlighted = min(highlighted or 0, len(rows) - 1)

    def _prompt(self, row: QueueRow) -> Content:
        mark, style = STATUS_MARKS[row.status]
        title, rid = one_line(row.title), one_line(row.report_id)
        parts: list[str | tuple[str, str]] = [(mark, style), " ", (title, "bold"), "\n  "]
        parts.append((rid, "dim"))
        # Labels with a key are the team's own; imported types (41 of them in MACCROBAT) are
        # summed, so a row stays two or three lines.
        keyed = {label.name for label in self.labels.labels if label.key}
        for label in self.labels.labels:
            n = row.counts.get(label.name, 0)
            if n and label.name in keyed:
                parts += ["  ", (f"{label.name} {n}", label.color)]
        other = sum(n for name, n in row.counts.items() if name not in keyed)
        if other:
            parts += ["  ", (f"other {other}", "dim")]
        return Content.assemble(*parts)
