"""Prodigy NER tasks (``ner_manual``, what ``db-out`` writes; see ../shared/FORMATS.md).

Read: ``text``, ``spans`` (character ``start``/``end``; a span with only ``token_start`` and
``token_end``, end inclusive, is placed through ``tokens``), ``meta``, ``answer`` (only
``accept`` is annotation; other answers are counted and skipped), ``_annotator_id`` or
``_session_id`` as the reviewer. Token indices are never trusted over character offsets.

Written: one task per report and reviewer, with tokens from ``core.tokens`` (split at every
span edge, so ``token_start``/``token_end`` are exact) and ``answer: accept``. Prodigy has no
discontinuous spans: each fragment is written as a span of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reviewer.core.formats.base import LineError, ReportRecord, SpanRecord
from reviewer.core.formats.base import pieces as span_pieces
from reviewer.core.formats.jsonl import default_id, dumps, lines, load_object
from reviewer.core.model import Report
from reviewer.core.text import path_text
from reviewer.core.tokens import token_span, tokenize

MARKERS = ("tokens", "answer", "_input_hash", "_task_hash", "_view_id", "_session_id")


def read(path: Path, *, encoding: str = "utf-8") -> Iterator[ReportRecord | LineError]:
    for number, line in lines(path, encoding):
        try:
            yield _task(load_object(line, number), number, path)
        except LineError as exc:
            yield exc


def _task(obj: dict[str, Any], number: int, path: Path) -> ReportRecord:
    text = obj.get("text")
    if not isinstance(text, str):
        raise LineError('"text" is missing or not a string', number)
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise LineError('"meta" must be an object', number)
    report_id = meta.pop("id", None) or obj.get("id") or default_id(path, text)
    annotator = obj.get("_annotator_id") or obj.get("_session_id")
    spans = obj.get("spans") or []
    if not isinstance(spans, list):
        raise LineError('"spans" must be a list', number)
    tokens = obj.get("tokens") or []
    return ReportRecord(
        id=str(report_id),
        raw_text=text,
        source=f"{path_text(path)}:{number}",
        line=number,
        meta=meta,
        spans=[_span(s, i, number, tokens) for i, s in enumerate(spans)],
        annotator=str(annotator) if annotator else None,
        format="prodigy",
        answer=str(obj.get("answer", "accept")),
    )


def _span(obj: Any, index: int, number: int, tokens: list) -> SpanRecord:
    where = f"span {index + 1}"
    if not isinstance(obj, dict) or not isinstance(obj.get("label"), str):
        raise LineError(f"{where} must be an object with a label", number)
    start, end = obj.get("start"), obj.get("end")
    if start is None and "token_start" in obj:  # placed by its tokens (end inclusive)
        try:
            start = tokens[obj["token_start"]]["start"]
            end = tokens[obj["token_end"]]["end"]
        except (IndexError, KeyError, TypeError):
            reason = f"{where}: its token_start/token_end are not in tokens"
            raise LineError(reason, number) from None
    if type(start) is not int or type(end) is not int:
        raise LineError(f'{where}: "start" and "end" must be integers', number)
    text = obj.get("text")
    return SpanRecord(start, end, obj["label"], text if isinstance(text, str) else None)


def task_lines(items: Iterable[tuple[Report, list[dict]]]) -> Iterator[str]:
    """One accepted task per report and reviewer."""
    for report, spans in items:
        by_reviewer: dict[str, list[dict]] = {}
        for span in spans:
            by_reviewer.setdefault(span["reviewer"], []).append(span)
        if not by_reviewer:  # a report nobody annotated is a task too, with no spans
            by_reviewer[""] = []
        for reviewer, own in by_reviewer.items():
            pieces = [(s, e, span["label"]) for span in own for s, e in span_pieces(span)]
            tokens = tokenize(report.text, [x for s, e, _ in pieces for x in (s, e)])
            out_spans = []
            for s, e, label in sorted(pieces):
                entry: dict[str, Any] = {
                    "start": s,
                    "end": e,
                    "label": label,
                    "text": report.text[s:e],
                }
                ts = token_span(tokens, s, e)
                if ts is not None:
                    entry["token_start"], entry["token_end"] = ts
                out_spans.append(entry)
            yield (
                dumps(
                    {
                        "text": report.text,
                        "tokens": [
                            {"text": t.text, "start": t.start, "end": t.end, "id": t.id, "ws": t.ws}
                            for t in tokens
                        ],
                        "spans": out_spans,
                        "meta": {"id": report.id, **report.export_meta()},
                        "answer": "accept",
                        **(
                            {"_annotator_id": reviewer, "_session_id": reviewer} if reviewer else {}
                        ),
                        "_view_id": "ner_manual",
                    }
                )
                + "\n"
            )
