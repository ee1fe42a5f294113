"""Export: choose reports and spans, hand them to a format writer, write atomically.

Every report selected is written, with the spans that pass the filters (a report with none is
still written: an unannotated report is information too). Order is import order, and spans are
in document order, so export -> import into an empty database -> export gives identical bytes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reviewer.core.formats import brat as brat_format
from reviewer.core.formats import conll as conll_format
from reviewer.core.formats import doccano as doccano_format
from reviewer.core.formats import jsonl as jsonl_format
from reviewer.core.formats import prodigy as prodigy_format
from reviewer.core.model import Report, ReviewerError, parse_status
from reviewer.core.store import Store

EXPORT_FORMATS = ("jsonl", "spans", "prodigy", "doccano", "conll")  # to a file; brat: a folder


def select(
    store: Store,
    *,
    label: str | None = None,
    reviewer: str | None = None,
    status: str | None = None,
    report_ids: set[str] | None = None,
) -> Iterator[tuple[Report, list[dict]]]:
    """Reports in import order with their spans (as ``Span.to_dict()`` dicts), filtered.

    ``status`` keeps reports that have that status for ``reviewer`` (or, without a reviewer, for
    any reviewer; ``todo`` then means a report nobody has started).
    """
    label, keep = _filters(store, label, reviewer, status, report_ids)
    yield from store.reports_with_spans(label=label, reviewer=reviewer, only=keep)


def _filters(
    store: Store,
    label: str | None,
    reviewer: str | None,
    status: str | None,
    report_ids: set[str] | None = None,
) -> tuple[str | None, set[str] | None]:
    """The label as the schema spells it, and the report ids the status and ``report_ids``
    keep (None: all)."""
    label = None if label is None else store.labels.spelled(label)
    keep = None if status is None else store.report_ids_with_status(parse_status(status), reviewer)
    if report_ids is not None:
        keep = set(report_ids) if keep is None else keep & set(report_ids)
    return label, keep


def export_brat(
    store: Store,
    folder: Path,
    *,
    label: str | None = None,
    reviewer: str | None = None,
    status: str | None = None,
    report_ids: set[str] | None = None,
    notes: list[str] | None = None,
) -> int:
    """Write every selected report as ``<id>.txt`` + ``<id>.ann`` under ``folder``; returns the
    number of reports. Kept source lines are written back unchanged after the model's lines."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ReviewerError(f"{folder}: brat export needs a folder, and this is a file")
    label, keep = _filters(store, label, reviewer, status, report_ids)
    with store.read():
        reports = [r for r in store.reports() if keep is None or r.id in keep]
        # Every target path first: an id that escapes the folder, or two ids that name the
        # same file (d, ./d, d/), stop the export before anything is written.
        targets = brat_format.target_paths(folder, [r.id for r in reports])
        pending = []
        for report in reports:
            spans = store.spans(report.id, reviewer=reviewer, label=label)
            kept = store.kept_lines(report.id, "brat", reviewer)
            # Source ids (T12) and the kept lines that name them are per reviewer: two
            # reviewers' would clash. Spans made here have no source id and never clash.
            owners = {s.reviewer for s in spans if s.source_id}
            owners |= set(store.kept_line_reviewers(report.id))
            if kept and len(owners) > 1 and reviewer is None:
                raise ReviewerError(
                    f"report {report.id!r} has brat annotations by {', '.join(sorted(owners))}, "
                    "whose kept lines would clash in one .ann: export one with --reviewer"
                )
            relations = [
                r
                for r in store.relations(report.id)
                if reviewer is None or r["reviewer"] == reviewer
            ]
            dropped: list[str] = []
            lines = brat_format.ann_lines(report.text, spans, relations, kept, dropped)
            if notes is not None:
                notes += [f"{report.id}: kept line {d}" for d in dropped]
            pending.append((targets[report.id], report.text, lines))
    for base, text, lines in pending:
        brat_format.write_report(base, text, lines)
    return len(pending)


def _writer(store: Store, fmt: str, offsets: str, reviewer: str | None, notes: list[str]):
    if fmt == "spans":
        return jsonl_format.span_lines
    if fmt == "prodigy":
        return prodigy_format.task_lines
    if fmt == "conll":
        return lambda items: conll_format.bio_lines(items, notes)
    if fmt == "doccano":
        relations = store.relations_by_report(reviewer)
        return lambda items: doccano_format.example_lines(items, relations, offsets)
    raise ReviewerError(
        f"unknown export format {fmt!r}; choose one of " + ", ".join(EXPORT_FORMATS)
    )


def export(
    store: Store,
    fmt: str = "jsonl",
    output: Path | None = None,
    *,
    offsets: str = "codepoints",
    notes: list[str] | None = None,
    **filters: Any,
) -> int:
    """Write the export to ``output`` atomically (or to stdout); returns the lines written.
    ``offsets="utf16"`` (doccano) counts offsets in UTF-16 code units; what a format could not
    hold (overlapping spans in CoNLL) is described in ``notes``."""
    if fmt == "jsonl":
        reviewer = filters.get("reviewer")
        label, keep = _filters(
            store, filters.get("label"), reviewer, filters.get("status"), filters.get("report_ids")
        )
        items = store.reports_with_span_json(label=label, reviewer=reviewer, only=keep)
        writer = jsonl_format.report_lines
    else:
        items = select(store, **filters)
        writer = _writer(
            store, fmt, offsets, filters.get("reviewer"), notes if notes is not None else []
        )
    # closing(): if writing stops early (a closed pipe), the read transaction still ends here,
    # while the store is open, not whenever the generator happens to be collected.
    with contextlib.closing(items):
        lines = writer(items)
        if output is None:
            return _write_text(sys.stdout, lines)
        return write_atomic(output, lines)


def _write_text(stream, lines: Iterable[str | bytes]) -> int:
    n = 0
    for line in lines:
        stream.write(line.decode("utf-8") if isinstance(line, bytes) else line)
        n += 1
    return n


def _write(stream, lines: Iterable[str | bytes]) -> int:
    """Write to a binary stream; text lines are encoded as UTF-8."""
    n = 0
    for line in lines:
        stream.write(line if isinstance(line, bytes) else line.encode("utf-8"))
        n += 1
    return n


def write_atomic(path: Path, lines: Iterable[str]) -> int:
    """Write to a temporary file beside ``path``, then rename it over ``path``: readers see the
    old file or the whole new one, never half of it.

    A symlink is followed (its target is replaced, the link stays); a path that exists but is
    no regular file (``/dev/stdout``, a FIFO) is written to directly, as there is nothing to
    rename over.
    """
    path = Path(path).resolve()
    if path.exists() and not path.is_dir() and not path.is_file():
        with path.open("wb") as stream:
            return _write(stream, lines)
    if path.is_dir():
        raise ReviewerError(f"{path}: is a folder; give a file name")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ReviewerError(f"{path}: the folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an export is an ordinary file
        with os.fdopen(fd, "wb") as stream:
            n = _write(stream, lines)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
