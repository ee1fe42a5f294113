"""doccano sequence-labelling JSONL (see ../shared/FORMATS.md).

Read: ``{"id", "text", "label": [[start, end, "LABEL"], ...], <meta keys>}`` or, with
relations, ``{"entities": [{"id", "label", "start_offset", "end_offset"}], "relations":
[{"id", "from_id", "to_id", "type"}]}``; the older aliases ``data`` (text) and ``labels``
(label), and label items as ``{"start_offset", "end_offset", "label"}``. Overlapping spans are
all kept. Every other key is metadata. ``offsets="utf16"`` reads offsets counted in UTF-16
code units, as a browser counts them.

Written: one line per report, the ``label`` form, or the ``entities``/``relations`` form when
the report has relations; ``offsets="utf16"`` writes UTF-16 offsets. doccano has no
discontinuous spans: each fragment is written as a span of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reviewer.core.formats.base import LineError, RelationRecord, ReportRecord, SpanRecord
from reviewer.core.formats.base import pieces as span_pieces
from reviewer.core.formats.jsonl import default_id, dumps, lines, load_object
from reviewer.core.model import Report
from reviewer.core.text import from_utf16, path_text, to_utf16, utf16_offsets

MARKERS = ("label", "labels", "entities", "data", "Comments")
_STRUCTURE = {"id", "text", "data", "label", "labels", "entities", "relations", "username"}


def read(
    path: Path, *, encoding: str = "utf-8", offsets: str = "codepoints"
) -> Iterator[ReportRecord | LineError]:
    for number, line in lines(path, encoding):
        try:
            yield _example(load_object(line, number), number, path, offsets)
        except LineError as exc:
            yield exc


def _example(obj: dict[str, Any], number: int, path: Path, offsets: str) -> ReportRecord:
    text = obj.get("text", obj.get("data"))
    if not isinstance(text, str):
        raise LineError('"text" (or "data") is missing or not a string', number)
    table = utf16_offsets(text) if offsets == "utf16" else None
    items = obj.get("entities") if "entities" in obj else obj.get("label", obj.get("labels"))
    spans = [_span(item, i, number, table) for i, item in enumerate(items or [])]
    relations = [_relation(r, number) for r in obj.get("relations") or []]
    meta = {k: v for k, v in obj.items() if k not in _STRUCTURE}
    report_id = obj.get("id")
    return ReportRecord(
        id=str(report_id) if report_id is not None else default_id(path, text),
        raw_text=text,
        source=f"{path_text(path)}:{number}",
        line=number,
        meta=meta,
        spans=spans,
        annotator=str(obj["username"]) if obj.get("username") else None,
        relations=relations,
        format="doccano",
    )


def _span(item: Any, index: int, number: int, table: list[int] | None) -> SpanRecord:
    where = f"label {index + 1}"
    source_id = ""
    if isinstance(item, list) and len(item) == 3:
        start, end, label = item
    elif isinstance(item, dict):
        start, end, label = item.get("start_offset"), item.get("end_offset"), item.get("label")
        source_id = str(item.get("id", ""))
    else:
        raise LineError(f"{where} must be [start, end, label] or an object", number)
    if type(start) is not int or type(end) is not int or not isinstance(label, str):
        raise LineError(f"{where}: offsets must be integers and the label a string", number)
    return SpanRecord(from_utf16(table, start), from_utf16(table, end), label, source_id=source_id)


def _relation(item: Any, number: int) -> RelationRecord:
    if not isinstance(item, dict) or not {"from_id", "to_id", "type"} <= set(item):
        raise LineError("a relation needs from_id, to_id and type", number)
    return RelationRecord(
        str(item["type"]),
        "from",
        str(item["from_id"]),
        "to",
        str(item["to_id"]),
        str(item.get("id", "")),
    )


def example_lines(
    items: Iterable[tuple[Report, list[dict]]],
    relations: dict[str, list[dict[str, str]]] | None = None,
    offsets: str = "codepoints",
) -> Iterator[str]:
    """One doccano example per report (``relations``: report id -> its relations)."""
    for report, spans in items:
        table = utf16_offsets(report.text) if offsets == "utf16" else None
        pieces = [
            (to_utf16(table, s), to_utf16(table, e), span["label"], span["id"], n)
            for span in spans
            for n, (s, e) in enumerate(span_pieces(span))
        ]
        rels = (relations or {}).get(report.id, [])
        meta = {k: v for k, v in report.export_meta().items() if k not in _STRUCTURE}
        if rels:
            ids = {(sid, n): i for i, (_, _, _, sid, n) in enumerate(pieces, start=1)}
            body: dict[str, Any] = {
                "entities": [
                    {"id": ids[(sid, n)], "label": lab, "start_offset": s, "end_offset": e}
                    for s, e, lab, sid, n in pieces
                ],
                "relations": [
                    {
                        "id": i,
                        "from_id": ids[(r["arg1"], 0)],
                        "to_id": ids[(r["arg2"], 0)],
                        "type": r["type"],
                    }
                    for i, r in enumerate(rels, start=1)
                    if (r["arg1"], 0) in ids and (r["arg2"], 0) in ids
                ],
            }
        else:
            body = {"label": [[s, e, lab] for s, e, lab, _, _ in sorted(pieces)]}
        yield dumps({"id": report.id, "text": report.text, **meta, **body}) + "\n"
