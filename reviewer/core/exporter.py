"""Export: choose reports and spans, hand them to a format writer, write atomically.

Every report selected is written, with the spans that pass the filters (a report with none is
still written: an unannotated report is information too). Order is import order, and spans are
in document order, so export -> import into an empty database -> export gives identical bytes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from reviewer.core.formats import jsonl as jsonl_format
from reviewer.core.model import Report, ReviewerError, Status
from reviewer.core.rows import REPORT_COLUMNS, report_from_row
from reviewer.core.store import Store

EXPORT_FORMATS = {
    "jsonl": jsonl_format.report_lines,
    "spans": jsonl_format.span_lines,
}


def select(
    store: Store,
    *,
    label: str | None = None,
    reviewer: str | None = None,
    status: str | None = None,
) -> Iterator[tuple[Report, list[dict]]]:
    """Reports in import order with their spans (as ``Span.to_dict()`` dicts), filtered.

    ``status`` keeps reports that have that status for ``reviewer`` (or, without a reviewer, for
    any reviewer; ``todo`` then means a report nobody has started).
    """
    if label is not None and label not in store.labels:
        resolved = store.labels.resolve(label)
        if resolved is None:
            raise ReviewerError(
                f"unknown label {label!r}; the labels are {', '.join(store.labels.names)}"
            )
        label = resolved
    keep = _status_filter(store, status, reviewer)
    span_where, params = [], []
    for column, value in (("label", label), ("reviewer", reviewer)):
        if value is not None:
            span_where.append(f"s.{column} = ?")
            params.append(value)
    where = ("WHERE " + " AND ".join(span_where)) if span_where else ""
    rows = store.conn.execute(
        "SELECT r.seq, s.id, s.start_char, s.end_char, s.label, s.text, s.reviewer, "
        f"s.attributes, s.note FROM spans s JOIN reports r ON r.id = s.report_id {where} "
        "ORDER BY r.seq, s.start_char, s.end_char, s.label, s.reviewer, s.id",
        params,
    )
    # Plain dicts in Span.to_dict() form: building 200,000 Span objects would triple the time.
    spans_by_seq: dict[int, list[dict]] = {}
    for seq, sid, start, end, label_, text, reviewer_, attrs, note in rows:
        spans_by_seq.setdefault(seq, []).append(
            {
                "id": sid,
                "start": start,
                "end": end,
                "label": label_,
                "text": text,
                "reviewer": reviewer_,
                "attributes": json.loads(attrs) if attrs != "{}" else {},
                "note": note,
            }
        )
    for row in store.conn.execute(f"SELECT seq, {REPORT_COLUMNS} FROM reports ORDER BY seq"):
        report = report_from_row(row[1:])
        if keep is None or report.id in keep:
            yield report, spans_by_seq.get(row[0], [])


def _status_filter(store: Store, status: str | None, reviewer: str | None) -> set[str] | None:
    if status is None:
        return None
    try:
        wanted = Status(status)
    except ValueError:
        raise ReviewerError(
            f"unknown status {status!r}; choose one of {', '.join(s.value for s in Status)}"
        ) from None
    sql, params = "SELECT report_id, status FROM review_status", []
    if reviewer is not None:
        sql += " WHERE reviewer = ?"
        params.append(reviewer)
    has: dict[str, set[str]] = {}
    for rid, st in store.conn.execute(sql, params):
        has.setdefault(rid, set()).add(st)
    if wanted is Status.TODO:
        return {rid for rid in store.report_ids() if not has.get(rid, set()) - {"todo"}}
    return {rid for rid, statuses in has.items() if wanted.value in statuses}


def export(
    store: Store,
    fmt: str = "jsonl",
    output: Path | None = None,
    **filters: str | None,
) -> int:
    """Write the export to ``output`` atomically (or to stdout); returns the lines written."""
    writer = EXPORT_FORMATS.get(fmt)
    if writer is None:
        raise ReviewerError(
            f"unknown export format {fmt!r}; choose one of " + ", ".join(EXPORT_FORMATS)
        )
    lines = writer(select(store, **filters))
    if output is None:
        return _write(sys.stdout, lines)
    return write_atomic(output, lines)


def _write(stream, lines: Iterable[str]) -> int:
    n = 0
    for line in lines:
        stream.write(line)
        n += 1
    return n


def write_atomic(path: Path, lines: Iterable[str]) -> int:
    """Write to a temporary file beside ``path``, then rename it over ``path``: readers see the
    old file or the whole new one, never half of it."""
    path = Path(path)
    if path.is_dir():
        raise ReviewerError(f"{path}: is a folder; give a file name")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ReviewerError(f"{path}: the folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an export is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
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
