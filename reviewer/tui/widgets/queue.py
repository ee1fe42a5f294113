"""The report queue: one row per report with its status and span counts per label."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from textual.content import Content

from reviewer.core.model import LabelSchema, Status
from reviewer.core.text import one_line
from reviewer.tui.widgets.rows import RowList

STATUS_MARKS = {
    Status.TODO: ("·", "dim"),
    Status.IN_PROGRESS: ("◐", "yellow"),
    Status.DONE: ("✓", "green"),
    Status.FLAGGED: ("⚑", "red"),
}


class QueueRow(NamedTuple):
    """What the queue shows of one report (a tuple: 10,000 of them are made at start)."""

    report_id: str
    title: str
    status: Status
    counts: Mapping[str, int]  # spans per label


# The counts of a report not counted yet, or with no spans: one shared, read-only mapping.
NO_COUNTS: Mapping[str, int] = MappingProxyType({})


def parse_filter(query: str) -> tuple[set[Status], str, str | None]:
    """A queue filter: ``status:done`` words (several allowed, ``status:todo,flagged`` too)
    and free text matched against title and id. Returns the statuses, the text, and an
    error message for an unknown status."""
    statuses: set[Status] = set()
    words = []
    for word in query.split():
        if word.lower().startswith("status:"):
            for name in word[7:].split(","):
                name = name.strip().lower().replace("-", "_").replace(" ", "_")
                if name == "open":  # not finished: to do or in progress
                    statuses |= {Status.TODO, Status.IN_PROGRESS}
                    continue
                try:
                    statuses.add(Status(name))
                except ValueError:
                    known = ", ".join([s.value for s in Status] + ["open"])
                    return set(), "", f"unknown status {name!r}: use one of {known}"
        else:
            words.append(word)
    return statuses, " ".join(words), None


def matches(row: QueueRow, statuses: set[Status], text: str) -> bool:
    if statuses and row.status not in statuses:
        return False
    folded = text.casefold()
    return not folded or folded in row.title.casefold() or folded in row.report_id.casefold()


class ReportQueue(RowList):
    """Reports in import order, two lines each: status and title; id and span counts. Titles
    are untrusted text, so rows are built as ``Content`` pieces and never parsed as markup."""

    ROW_HEIGHT = 2

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__(**kwargs)
        self.labels = labels
        self.rows: list[QueueRow] = []
        # Labels with a key are the team's own; imported types (41 of them in MACCROBAT) are
        # summed as "other", so a row stays readable.
        self._keyed = [label for label in labels.labels if label.key]
        self._keyed_names = {label.name for label in self._keyed}

    def set_rows(
        self,
        rows: list[QueueRow],
        current: str | None = None,
        *,
        follow: bool = True,
        index: Mapping[str, int] | None = None,
    ) -> None:
        self.rows = rows
        self.set_keys([row.report_id for row in rows], current, follow=follow, index=index)

    def render_row(self, index: int, line: int) -> Content:
        row = self.rows[index]
        if line == 0:
            mark, style = STATUS_MARKS[row.status]
            return Content.assemble((mark, style), " ", (one_line(row.title), "bold"))
        parts: list[str | tuple[str, str]] = ["  ", (one_line(row.report_id), "dim")]
        for label in self._keyed:
            n = row.counts.get(label.name, 0)
            if n:
                parts += ["  ", (f"{label.name} {n}", label.color)]
        other = sum(n for name, n in row.counts.items() if name not in self._keyed_names)
        if other:
            parts += ["  ", (f"other {other}", "dim")]
        return Content.assemble(*parts)
