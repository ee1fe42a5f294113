"""The domain model: reports, spans, review statuses and the label schema.

Everything here is a frozen dataclass: a value that is read from the store or a file, validated
once, and passed around without anyone changing it. Changing a span means making a new one
(``dataclasses.replace``) and handing it to the store, which records the before and after.

Offsets are Unicode code points into ``Report.text``, end exclusive, exactly as Python slices
them: ``report.text[span.start:span.end] == span.text`` always holds for a stored span.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

# The attributes a reviewer can set on a span in the app (stored as ``{name: True}``);
# imported attributes of any other name are kept and exported as they came.
SPAN_ATTRIBUTES = ("negated", "uncertain", "historical")


class ReviewerError(Exception):
    """An error the user can act on; the CLI prints its message as one line, no traceback."""


class ValidationError(ReviewerError):
    """A report or span that breaks the model's rules."""


class Status(StrEnum):
    """Where one reviewer stands with one report."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FLAGGED = "flagged"


def parse_status(value: str) -> Status:
    """A status by its name, or an error that lists the names."""
    try:
        return Status(value)
    except ValueError:
        raise ReviewerError(
            f"unknown status {value!r}; choose one of {', '.join(s.value for s in Status)}"
        ) from None


def now_iso() -> str:
    """The current UTC time as ISO 8601 with microseconds, the form every timestamp is stored in."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def sha256_text(text: str) -> str:
    """The hex sha256 of ``text`` encoded as UTF-8: a report's fingerprint."""
    import hashlib  # (only imports need it: not loaded at the app's start)

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def display_title(title: str, text: str, fallback: str) -> str:
    """What to call a report in a list: its title, else its first non-empty line (cut at 100
    characters), else ``fallback`` (its id)."""
    if title:
        return title
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 100 else line[:99] + "…"
    return fallback


@dataclass(frozen=True)
class Report:
    """One case report, as stored.

    ``text`` is the whole imported document after normalisation (see ``core.text``) and never
    changes afterwards. ``id`` is stable: the JSONL ``id`` or the file's path relative to the
    imported folder, without its extension. ``meta`` holds whatever else is known (authors,
    affiliation, any keys a JSONL line brought); the common bibliographic fields have their own
    attributes so the store can give them their own columns.
    """

    id: str
    text: str
    source: str = ""
    title: str = ""
    journal: str = ""
    published: str = ""
    doi: str = ""
    authors: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    imported_at: str = ""
    duplicate_of: str | None = None

    def __hash__(self) -> int:  # equal reports have equal ids; the meta dict is not hashable
        return hash(self.id)

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise ValidationError("a report needs a non-empty id")
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_text(self.text))

    @property
    def display_title(self) -> str:
        """The title, or the first non-empty line of the text when the report has no header."""
        return display_title(self.title, self.text, self.id)

    def citation(self) -> str:
        """A one-line citation: title, journal, date and DOI, whichever are known."""
        parts = [self.display_title]
        parts += [p for p in (self.journal, self.published) if p]
        if self.doi:
            parts.append(f"doi:{self.doi}")
        return ". ".join(parts)

    def export_meta(self) -> dict[str, Any]:
        """All metadata as one dict, the form written to JSONL (empty fields left out)."""
        return export_meta(
            self.title, self.journal, self.published, self.doi, self.authors, self.source, self.meta
        )


def export_meta(
    title: str,
    journal: str,
    published: str,
    doi: str,
    authors: Iterable[str],
    source: str,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """A report's metadata as one dict, the form written to JSONL: the header fields, authors
    and source (each left out when empty), then the free-form ``meta``."""
    out: dict[str, Any] = {}
    for key, value in (
        ("title", title),
        ("journal", journal),
        ("published", published),
        ("doi", doi),
    ):
        if value:
            out[key] = value
    if authors:
        out["authors"] = list(authors)
    if source:
        out["source"] = source
    out.update(meta)
    return out


@dataclass(frozen=True)
class Span:
    """A labelled stretch of a report's text, made by one reviewer.

    ``start`` and ``end`` are code-point offsets, end exclusive; ``text`` is the covered slice,
    kept so that an export can be checked against its offsets by anyone. ``attributes`` holds
    flags such as ``negated``; ``note`` is free text.

    A discontinuous span (brat's ``T1 Type 0 5;10 15``) lists its ``fragments`` in the order its
    source gave them (not necessarily document order); ``start``/``end`` are then the extent of
    all fragments and ``text`` is the fragments' text joined by one space, as brat writes it.
    ``refs`` are normalisations to a vocabulary (``{"type", "ref", "text"}``, brat's N lines);
    ``source_id`` is the span's id in the file it came from (brat ``T12``), reused on export.
    """

    report_id: str
    start: int
    end: int
    label: str
    text: str
    reviewer: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attributes: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    created_at: str = ""
    updated_at: str = ""
    fragments: tuple[tuple[int, int], ...] = ()
    refs: list[dict[str, str]] = field(default_factory=list)
    source_id: str = ""

    def __post_init__(self) -> None:
        fragments = self.fragments
        if not isinstance(fragments, tuple) or (fragments and not isinstance(fragments[0], tuple)):
            # From JSON: lists of lists.
            object.__setattr__(self, "fragments", tuple((s, e) for s, e in fragments))

    def __hash__(self) -> int:  # equal spans have equal ids; the attributes dict is not hashable
        return hash(self.id)

    @property
    def pieces(self) -> tuple[tuple[int, int], ...]:
        """The stretches of text the span covers: its fragments, or ``(start, end)``."""
        return self.fragments or ((self.start, self.end),)

    def content(self) -> tuple[Any, ...]:
        """What makes two spans the same annotation, times aside."""
        return (
            self.report_id,
            self.start,
            self.end,
            self.label,
            self.text,
            self.reviewer,
            tuple(sorted(self.attributes.items())),
            self.note,
            self.fragments,
            tuple(tuple(sorted(r.items())) for r in self.refs),
        )

    def to_dict(self) -> dict[str, Any]:
        """The span as written to JSONL exports (no timestamps, so exports are reproducible)."""
        return {
            "id": self.id,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "text": self.text,
            "reviewer": self.reviewer,
            "attributes": dict(self.attributes),
            "note": self.note,
            **({"fragments": [list(f) for f in self.fragments]} if self.fragments else {}),
            **({"refs": list(self.refs)} if self.refs else {}),
        }


def differences(old: Span, new: Span, old_name: str, new_name: str) -> str:
    """How two versions of a span differ, field by field: ``note ('a' stored, 'b' here)``."""
    a, b = old.to_dict(), new.to_dict()
    fields = [k for k in a if k != "id" and a[k] != b.get(k)] or ["content"]
    return ", ".join(
        f"{k} ({a[k]!r} {old_name}, {b.get(k)!r} {new_name})" for k in fields if k in a
    )


def covered_text(text: str, pieces: tuple[tuple[int, int], ...]) -> str:
    """The text a span covers: its pieces' slices joined by one space (brat's convention)."""
    return " ".join(text[s:e] for s, e in pieces)


def validate_span(span: Span, text: str, labels: LabelSchema) -> None:
    """Raise ``ValidationError`` unless ``span`` fits ``text`` and ``labels``.

    The rules: ``0 <= start < end <= len(text)``, the covered text equals the slice, the label is
    in the schema and the reviewer is named.
    """
    if not (isinstance(span.start, int) and isinstance(span.end, int)):
        raise ValidationError(f"span offsets must be integers, got {span.start!r}, {span.end!r}")
    if not 0 <= span.start < span.end <= len(text):
        raise ValidationError(
            f"span {span.start}-{span.end} is outside the text (0-{len(text)}) or empty"
        )
    if span.fragments:
        _check_fragments(span, len(text))
    actual = covered_text(text, span.pieces)
    if span.text != actual:
        raise ValidationError(
            f"span {span.start}-{span.end} says {span.text!r} but the text there is {actual!r}"
        )
    if span.label not in labels:
        raise ValidationError(
            f"label {span.label!r} is not in the label schema ({', '.join(labels.names)})"
        )
    if not span.reviewer:
        raise ValidationError("a span needs a reviewer")


def _check_fragments(span: Span, length: int) -> None:
    pieces = sorted(span.fragments)
    for s, e in pieces:
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= length):
            raise ValidationError(f"fragment {s}-{e} is outside the text (0-{length}) or empty")
    if any(a[1] > b[0] for a, b in zip(pieces, pieces[1:], strict=False)):
        raise ValidationError(f"the fragments {span.fragments} overlap each other")
    if (pieces[0][0], max(e for _, e in pieces)) != (span.start, span.end):
        raise ValidationError(
            f"span {span.start}-{span.end} is not the extent of its fragments {span.fragments}"
        )


@dataclass(frozen=True)
class Label:
    """One label of the schema: its name, the key that applies it, and its colour."""

    name: str
    key: str
    color: str
    description: str = ""


@dataclass(frozen=True)
class LabelSchema:
    """The labels a workspace uses, in key order. See ``core.schema`` for loading and defaults."""

    labels: tuple[Label, ...]

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    @cached_property
    def _folded(self) -> dict[str, str]:
        return {name.casefold(): name for name in self.names}

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def get(self, name: str) -> Label | None:
        return next((label for label in self.labels if label.name == name), None)

    def resolve(self, name: str) -> str | None:
        """The schema's spelling of ``name``, matched without regard to case (``DRUG`` -> drug)."""
        return self._folded.get(name.casefold())

    def spelled(self, name: str) -> str:
        """The schema's spelling of a label a user typed, or an error listing the labels."""
        if name in self:
            return name
        resolved = self.resolve(name)
        if resolved is None:
            raise ReviewerError(f"unknown label {name!r}; the labels are {', '.join(self.names)}")
        return resolved


@dataclass(frozen=True)
class ReviewStatus:
    """One reviewer's progress on one report."""

    report_id: str
    reviewer: str
    status: Status = Status.TODO
    seconds_spent: float = 0.0
    flag_reason: str = ""
    updated_at: str = ""
