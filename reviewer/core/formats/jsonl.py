"""reviewer's own JSONL: one report per line, spans in the spaCy/Prodigy ``{start, end, label}``
form, which is also what spaCy and Prodigy span loaders read.

Written as::

    {"id": ..., "text": ..., "meta": {...},
     "spans": [{"id", "start", "end", "label", "text", "reviewer", "attributes", "note"}]}

Read: ``text`` is required; ``id``, ``meta``, ``spans`` and ``_annotator_id`` are optional; span
``text``, ``id``, ``reviewer``, ``attributes`` and ``note`` are optional and checked when given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from reviewer.core.formats.base import LineError, ReportRecord, SpanRecord
from reviewer.core.model import Report, sha256_text
from reviewer.core.text import context, path_text, read_text_file


def read(path: Path, *, encoding: str = "utf-8") -> Iterator[ReportRecord | LineError]:
    """One record per non-blank line; a malformed line gives a ``LineError`` naming it."""
    for number, line in lines(path, encoding):
        try:
            yield parse_line(line, number, path)
        except LineError as exc:
            yield exc


def lines(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """The non-blank lines of a JSONL file with their 1-based numbers."""
    content = read_text_file(path, encoding=encoding)
    # Split on LF only: U+2028 and friends are legal unescaped inside JSON strings. One line
    # at a time, so each is freed once read rather than all held until the file is done.
    start, number, find = 0, 0, content.find
    while start <= len(content):
        end = find("\n", start)
        if end == -1:
            end = len(content)
        number += 1
        line = content[start:end].removesuffix("\r")
        start = end + 1
        if line.strip():
            yield number, line


def load_object(line: str, number: int) -> dict[str, Any]:
    """One JSONL line as an object, or a ``LineError``."""
    try:
        # orjson, unlike json, also refuses escaped unpaired surrogates ("\ud800"): not text.
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise LineError(f"not valid JSON: {exc.msg} (column {exc.colno})", number) from None
    if not isinstance(obj, dict):
        raise LineError("expected a JSON object", number)
    return obj


def default_id(path: Path, text: str) -> str:
    """The id of a record that names none: the file's name and the text's fingerprint, so the
    same text from the same file is the same report."""
    return f"{path.stem}-{sha256_text(text)[:12]}"


def parse_line(line: str, number: int, path: Path) -> ReportRecord:
    obj = load_object(line, number)
    text = obj.get("text")
    if not isinstance(text, str):
        raise LineError('"text" is missing or not a string', number)
    report_id = obj.get("id")
    if report_id is None:
        report_id = default_id(path, text)
    elif isinstance(report_id, bool) or not isinstance(report_id, str | int):
        raise LineError('"id" must be a string or an integer', number)
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        raise LineError('"meta" must be an object', number)
    annotator = obj.get("_annotator_id")
    if annotator is not None and not isinstance(annotator, str):
        raise LineError('"_annotator_id" must be a string', number)
    spans = obj.get("spans")
    if spans is None:
        spans = []
    if not isinstance(spans, list):
        raise LineError('"spans" must be a list', number)
    return ReportRecord(
        id=str(report_id).strip(),
        raw_text=text,
        source=f"{path_text(path)}:{number}",
        line=number,
        meta=dict(meta),
        spans=[_span(s, i, number) for i, s in enumerate(spans)],
        annotator=annotator,
    )


_OPTIONAL_SPAN_FIELDS = (
    ("fragments", list),
    ("refs", list),
    ("text", str),
    ("id", str),
    ("reviewer", str),
    ("note", str),
    ("attributes", dict),
)


def _span(obj: Any, index: int, number: int) -> SpanRecord:
    # The hot path of a large import: checks are by exact type, messages built only on error.
    if type(obj) is not dict:
        raise LineError(f"span {index + 1} must be an object with start, end and label", number)
    start, end, label = obj.get("start"), obj.get("end"), obj.get("label")
    if type(start) is not int or type(end) is not int:
        name = "start" if type(start) is not int else "end"
        raise LineError(f'span {index + 1}: "{name}" must be an integer', number)
    if type(label) is not str or not label:
        raise LineError(f'span {index + 1}: "label" must be a non-empty string', number)
    if len(obj) == 3:
        return SpanRecord(start, end, label)
    for name, kind in _OPTIONAL_SPAN_FIELDS:
        if obj.get(name) is not None and not isinstance(obj[name], kind):
            raise LineError(f'span {index + 1}: "{name}" must be a {kind.__name__}', number)
    return SpanRecord(
        start=start,
        end=end,
        label=label,
        text=obj.get("text"),
        id=obj.get("id"),
        reviewer=obj.get("reviewer") or None,
        attributes=obj.get("attributes") or {},
        note=obj.get("note") or "",
        fragments=_fragments(obj.get("fragments"), index, number),
        refs=_refs(obj.get("refs"), index, number),
    )


def _fragments(value: Any, index: int, number: int) -> tuple[tuple[int, int], ...]:
    if not value:
        return ()
    if not all(type(f) is list and len(f) == 2 and all(type(x) is int for x in f) for f in value):
        raise LineError(f'span {index + 1}: "fragments" must be [[start, end], ...]', number)
    return tuple((a, b) for a, b in value)


def _refs(value: Any, index: int, number: int) -> list[dict[str, str]]:
    if not value:
        return []
    if not all(type(r) is dict and all(type(v) is str for v in r.values()) for r in value):
        raise LineError(f'span {index + 1}: "refs" must be a list of objects of strings', number)
    return list(value)


def dumps(obj: dict[str, Any]) -> str:
    """One compact JSON line: UTF-8 as is (no \\u escapes), keys in the order given."""
    return orjson.dumps(obj).decode("utf-8")


def report_lines(items: Iterable[tuple[str, bytes, dict[str, Any], bytes]]) -> Iterator[bytes]:
    """One line per report, ``{"id", "text", "meta", "spans"}``, from the store's parts (see
    ``Store.reports_with_span_json``: the text and the spans already JSON, written by SQLite),
    so no dict is built per span. The bytes are what orjson would write for the whole object."""
    for rid, text, meta, spans in items:
        yield b"".join(
            (
                b'{"id":',
                orjson.dumps(rid),
                b',"text":',
                text,
                b',"meta":',
                orjson.dumps(meta),
                b',"spans":[',
                spans,
                b"]}\n",
            )
        )


def span_lines(items: Iterable[tuple[Report, list[dict]]]) -> Iterator[str]:
    """One line per span, with its report id and 40 characters of context either side."""
    for report, spans in items:
        for span in spans:
            left, right = context(report.text, span["start"], span["end"])
            yield dumps({"report_id": report.id, **span, "left": left, "right": right}) + "\n"
