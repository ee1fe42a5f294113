"""PubTator (BioCreative; ../shared/corpora/bc5cdr_sample), read only.

A block per document, blocks separated by an empty line::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>Type<TAB>ids[<TAB>individual mentions]
    PMID<TAB>CID<TAB>chemical id<TAB>disease id

The report text is title + one space + abstract, exactly what the offsets count over. Mention
types are kept as labels of their own unless mapped; the ids (``|``-separated for composite
mentions) become refs. Relation lines name concepts, not mentions, so they are kept verbatim
with the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from reviewer.core.formats.base import LineError, ReportRecord, SpanRecord
from reviewer.core.text import path_text, read_text_file

_HEAD = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")


def looks_like(path: Path) -> bool:
    """True when the file's first line is a PubTator title line."""
    try:
        with path.open("rb") as f:
            first = f.readline(4096).decode("utf-8", "replace")
    except OSError:
        return False
    return bool(re.match(r"^[^|\t]+\|t\|", first))


def read(path: Path, *, encoding: str = "utf-8") -> Iterator[ReportRecord | LineError]:
    block: list[tuple[int, str]] = []
    for number, line in enumerate(read_text_file(path, encoding=encoding).split("\n"), 1):
        line = line.removesuffix("\r")
        if line.strip():
            block.append((number, line))
        elif block:
            yield from _document(block, path)
            block = []
    if block:
        yield from _document(block, path)


def _document(block: list[tuple[int, str]], path: Path) -> Iterator[ReportRecord | LineError]:
    parts: dict[str, str] = {}
    pmid = ""
    body: list[tuple[int, str]] = []
    for number, line in block:
        head = _HEAD.match(line)
        if head and head.group(2) not in parts:
            if pmid and head.group(1) != pmid:
                yield LineError(
                    f"{head.group(1)}|{head.group(2)}| follows {pmid}|t| with no "
                    "blank line between the documents",
                    number,
                )
                return
            pmid, kind, value = head.groups()
            parts[kind] = value
        else:
            body.append((number, line))
    first = block[0][0]
    if set(parts) != {"t", "a"}:
        yield LineError("a PubTator document needs a PMID|t| and a PMID|a| line", first)
        return
    text = parts["t"] + " " + parts["a"]
    record = ReportRecord(
        id=pmid,
        raw_text=text,
        source=f"{path_text(path)}:{first}",
        line=first,
        meta={"title": parts["t"]},
        format="pubtator",
    )
    for number, line in body:
        fields = line.split("\t")
        if fields[0] != pmid:
            yield LineError(f"a line of document {fields[0]} inside document {pmid}", number)
        elif len(fields) == 4 and not fields[1].isdigit():  # a relation: CID chem disease
            record.kept.append((fields[1], line))
        elif len(fields) in (6, 7):
            try:
                mention = _mention(fields, text)
                mention.line = number
                record.spans.append(mention)
            except LineError as exc:
                exc.line = number
                yield exc
        else:
            yield LineError(f"expected 6 or 7 tab-separated fields, found {len(fields)}", number)
    yield record


def _mention(fields: list[str], text: str) -> SpanRecord:
    _, start, end, mention, label, ids, *individual = fields
    if not (start.isdigit() and end.isdigit()):
        raise LineError(f"offsets {start!r} {end!r} are not numbers")
    names = individual[0].split("|") if individual and individual[0] else []
    # As brat writes normalisations: N<TAB>Reference T1 MESH:D003866 (a DB:ID pair).
    refs = [
        {"type": "Reference", "ref": f"MESH:{ref}", "text": names[i] if i < len(names) else ""}
        for i, ref in enumerate(ids.split("|"))
        if ref and ref != "-1"
    ]
    return SpanRecord(int(start), int(end), label, mention, refs=refs)
