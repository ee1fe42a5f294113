"""Which files an import reads, in which format, and their records.

``collect`` turns the paths a user gives into an :class:`ImportPlan`: files in order (reports
before JSONL, so annotation files attach to their reports), each with the format it will be
read as: by ``--format``, or by the path (a folder of ``.ann`` files is brat, a ``.txt`` opening
with ``PMID|t|`` is PubTator, a ``.jsonl`` is told apart by the keys of its first line).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from reviewer.core.formats import brat as brat_format
from reviewer.core.formats import doccano as doccano_format
from reviewer.core.formats import jsonl as jsonl_format
from reviewer.core.formats import prodigy as prodigy_format
from reviewer.core.formats import pubtator as pubtator_format
from reviewer.core.formats import text as text_format
from reviewer.core.formats.base import LineError, ReportRecord
from reviewer.core.model import ReviewerError
from reviewer.core.text import path_text

FORMATS = ("auto", "text", "jsonl", "brat", "prodigy", "doccano", "pubtator")
_EXTENSIONS = {".txt": "text", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class ImportFile:
    path: Path
    format: str
    report_id: str  # for one-report formats: the id derived from the path
    ann: Path | None = None  # brat: the .ann beside the .txt (None: no annotations)
    root: Path | None = None  # brat: the folder imported (annotation.conf is looked for up to it)

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, self.ann) if p is not None and p.exists())


@dataclass(frozen=True)
class ImportPlan:
    """The files an import will read, in order, and what it passes over in the folders."""

    files: list[ImportFile]
    ignored: Counter[str]  # extension -> number of files in the folders that are not imported

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def collect(paths: list[Path], fmt: str = "auto") -> ImportPlan:
    """The files to import from files and folders (recursively), reports before JSONL so that a
    folder's annotation files attach to its reports. A folder holding ``.ann`` files is read as
    brat (each ``.txt`` with its ``.ann``). Errors name the path that cannot be used."""
    if fmt not in FORMATS:
        raise ReviewerError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    found: list[ImportFile] = []
    ignored: Counter[str] = Counter()
    for path in paths:
        if path.is_dir():
            found += _from_folder(path, fmt, ignored)
        elif path.is_file():
            found.append(_from_file(path, fmt))
        else:
            raise ReviewerError(f"{path_text(path)}: no such file or folder")
    if not found:
        raise ReviewerError(
            f"no {'importable' if fmt == 'auto' else fmt} files in "
            + ", ".join(path_text(p) for p in paths)
        )
    order = {"text": 0, "brat": 0, "pubtator": 0, "jsonl": 1, "prodigy": 1, "doccano": 1}
    return ImportPlan(sorted(found, key=lambda f: order[f.format]), ignored)


def _from_folder(folder: Path, fmt: str, ignored: Counter[str]) -> list[ImportFile]:
    files = [
        f
        for f in sorted(folder.rglob("*"))
        if f.is_file() and not any(p.startswith(".") for p in f.relative_to(folder).parts)
    ]
    suffixes = {f.suffix.lower() for f in files}
    brat = fmt == "brat" or (fmt == "auto" and ".ann" in suffixes)
    found: list[ImportFile] = []
    for file in files:
        rid = path_text(file.relative_to(folder).with_suffix(""))
        suffix = file.suffix.lower()
        if brat and suffix == ".txt":
            ann = file.with_suffix(".ann")
            found.append(ImportFile(file, "brat", rid, ann if ann.is_file() else None, folder))
        elif brat and suffix == ".ann":
            if not file.with_suffix(".txt").is_file():  # reported when read: no text to go with
                found.append(ImportFile(file.with_suffix(".txt"), "brat", rid, file, folder))
        elif (kind := _EXTENSIONS.get(suffix)) and fmt == "auto":
            found.append(ImportFile(file, _sniff(file, kind), rid))
        elif kind and (
            fmt == kind
            or (kind == "jsonl" and fmt in ("prodigy", "doccano"))
            or (kind == "text" and fmt == "pubtator")
        ):
            found.append(ImportFile(file, fmt, rid))
        else:
            ignored[suffix or file.name] += 1
    return found


def _from_file(path: Path, fmt: str) -> ImportFile:
    rid = path_text(Path(path.stem))
    suffix = path.suffix.lower()
    ann = path.with_suffix(".ann")
    if fmt == "brat" or suffix == ".ann" or (fmt == "auto" and suffix == ".txt" and ann.is_file()):
        ann_or_none = ann if ann.is_file() else None
        return ImportFile(path.with_suffix(".txt"), "brat", rid, ann_or_none, path.parent)
    kind = fmt if fmt != "auto" else _EXTENSIONS.get(suffix, "")
    if fmt == "auto" and kind:
        kind = _sniff(path, kind)
    if not kind:
        raise ReviewerError(
            f"{path_text(path)}: cannot tell the format from the extension; use --format"
        )
    return ImportFile(path, kind, rid)


def _sniff(path: Path, kind: str) -> str:
    if kind == "jsonl":
        return sniff_jsonl(path)
    if kind == "text" and pubtator_format.looks_like(path):
        return "pubtator"
    return kind


def sniff_jsonl(path: Path) -> str:
    """Which JSONL a file is, from the keys of its first line: Prodigy tasks carry tokens,
    answers or hashes; doccano examples carry label/entities (or the old data/labels)."""
    try:
        with path.open("rb") as f:
            first = next((line for line in f if line.strip()), b"")
        first = first.removeprefix(b"\xef\xbb\xbf")  # a BOM is dropped when the file is read
        keys = set(orjson.loads(first)) if first else set()
    except (OSError, orjson.JSONDecodeError, TypeError):
        return "jsonl"  # the reader will say what is wrong, line by line
    if keys & set(prodigy_format.MARKERS):
        return "prodigy"
    if keys & set(doccano_format.MARKERS) and "spans" not in keys:
        return "doccano"
    return "jsonl"


def read_records(
    file: ImportFile, encoding: str, offsets: str = "codepoints"
) -> Iterator[ReportRecord | LineError]:
    """The file's records; a malformed record comes as a ``LineError`` in its place, so the
    reader goes on to the next one (a file that cannot be read at all raises)."""
    if file.format == "text":
        return text_format.read(file.path, file.report_id, encoding=encoding)
    if file.format == "brat":
        if not file.path.is_file():
            raise ReviewerError(f"{path_text(file.ann or file.path)}: has no .txt beside it")
        return brat_format.read(file.path, file.ann, file.report_id, encoding=encoding)
    if file.format == "prodigy":
        return prodigy_format.read(file.path, encoding=encoding)
    if file.format == "pubtator":
        return pubtator_format.read(file.path, encoding=encoding)
    if file.format == "doccano":
        return doccano_format.read(file.path, encoding=encoding, offsets=offsets)
    return jsonl_format.read(file.path, encoding=encoding)
