"""What a format reader hands to the importer, before normalisation and validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reviewer.core.model import ReviewerError


class LineError(ReviewerError):
    """A malformed record; ``line`` is 1-based (``None`` for a whole-file problem)."""

    def __init__(self, reason: str, line: int | None = None, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.path = path  # the file the line is in, when not the record's own (brat's .ann)


@dataclass(slots=True)
class SpanRecord:
    """A span as a file states it: offsets into the record's raw text, end exclusive."""

    start: int
    end: int
    label: str
    text: str | None = None
    id: str | None = None
    reviewer: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    fragments: tuple[tuple[int, int], ...] = ()  # in the file's order; start/end their extent
    refs: list[dict[str, str]] = field(default_factory=list)
    source_id: str = ""
    line: int | None = None  # where the span is stated, when not on its record's line
    path: str | None = None  # and in which file, when not the record's (brat's .ann)


@dataclass(slots=True)
class RelationRecord:
    """A relation between two spans of the same record, named by their ``source_id``."""

    type: str
    arg1_role: str
    arg1: str
    arg2_role: str
    arg2: str
    source_id: str = ""


@dataclass
class ReportRecord:
    """One report as read from a file, with the spans that came with it."""

    id: str
    raw_text: str
    source: str
    line: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    spans: list[SpanRecord] = field(default_factory=list)
    annotator: str | None = None
    relations: list[RelationRecord] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (kind, line), in file order
    format: str = ""
    answer: str = "accept"  # Prodigy: only accepted tasks are annotation


def pieces(span: dict[str, Any]) -> list[tuple[int, int]]:
    """The stretches an exported span (``Span.to_dict()`` form) covers: its fragments, or its
    start and end. Formats without discontinuous spans write each piece as a span."""
    return [tuple(f) for f in span.get("fragments") or [(span["start"], span["end"])]]  # type: ignore[misc]
