"""Import: find files, read them with their format's reader, normalise, validate and store.

Each file is one transaction: a malformed record stops the import with ``file:line: reason`` and
nothing from that file is kept, unless ``skip_invalid`` is set, in which case the bad record is
counted and the rest of the file kept.

A report is known by its id. The same id with the same text again adds no report (spans that come
with it attach to the stored one); the same id with another text is an error naming both sources;
another id with an identical text is stored and marked as a duplicate of the first. A span that
comes without an id gets one derived from its report, reviewer, offsets, label and how many
identical spans came before it in the file, so importing the same file twice changes nothing
while two identical spans in one file are both kept.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewer.core.formats import jsonl as jsonl_format
from reviewer.core.formats import text as text_format
from reviewer.core.formats.base import LineError, ReportRecord, SpanRecord
from reviewer.core.model import (
    Report,
    ReviewerError,
    Span,
    ValidationError,
    now_iso,
)
from reviewer.core.store import Store
from reviewer.core.text import (
    clean_value,
    has_controls,
    normalise,
    one_line,
    parse_header,
    path_text,
)

FORMATS = ("auto", "text", "jsonl")
_EXTENSIONS = {".txt": "text", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SPAN_NAMESPACE = uuid.UUID("9a7c1d2e-4b1f-5c3a-9e8d-6f0b2a4c8e11").bytes


_NAMESPACE_SHA1 = hashlib.sha1(_SPAN_NAMESPACE)


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(_SPAN_NAMESPACE, name))``, without building a UUID object per span."""
    sha = _NAMESPACE_SHA1.copy()
    sha.update(name.encode("utf-8"))
    digest = bytearray(sha.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    """What an import did, for the one summary line."""

    files: int = 0
    reports: int = 0
    spans: int = 0
    present_ids: set[str] = field(default_factory=set)
    added_ids: set[str] = field(default_factory=set)
    spans_already_present: int = 0
    spans_edited_here: int = 0
    spans_deleted_here: int = 0
    duplicates: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)

    @property
    def already_present(self) -> int:
        """Reports that were stored before this import began."""
        return len(self.present_ids)

    def line(self) -> str:
        text = (
            f"Imported {self.reports} report{'s' * (self.reports != 1)} and {self.spans} "
            f"span{'s' * (self.spans != 1)} from {self.files} file{'s' * (self.files != 1)}"
        )
        if self.formats:
            text += " (" + ", ".join(f"{n} {f}" for f, n in sorted(self.formats.items())) + ")"
        text += (
            f"; {self.already_present} already present, {self.duplicates} "
            f"duplicate{'s' * (self.duplicates != 1)} of other reports, "
            f"{len(self.errors)} error{'s' * (len(self.errors) != 1)}"
        )
        if self.spans_already_present:
            text += f", {self.spans_already_present} spans already present"
        if self.spans_edited_here:
            text += f", {self.spans_edited_here} spans kept as edited here"
        if self.spans_deleted_here:
            text += f", {self.spans_deleted_here} spans deleted here not restored"
        if self.skipped:
            text += f", {self.skipped} invalid record{'s' * (self.skipped != 1)} skipped"
        if self.ignored:
            n = sum(self.ignored.values())
            kinds = ", ".join(f"{c} {ext}" for ext, c in sorted(self.ignored.items()))
            text += f"; {n} other file{'s' * (n != 1)} not imported ({kinds})"
        return text + "."


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read: an import makes hundreds of
    thousands of small objects and no cycles, and every full collection would walk them all
    (and everything else the process holds). Reference counting still frees as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ImportStopped(ReviewerError):
    """An import stopped by an error; ``summary`` says what the files before it brought in
    (they are committed, each in its own transaction)."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class ImportFile:
    path: Path
    format: str
    report_id: str  # for one-report formats: the id derived from the path

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ImportPlan:
    """The files an import will read, in order, and what it passes over in the folders."""

    files: list[ImportFile]
    ignored: Counter[str]  # extension -> number of files in the folders that are not imported

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def collect(paths: list[Path], fmt: str = "auto") -> ImportPlan:
    """The files to import from files and folders (recursively), text before JSONL so that a
    folder's annotation files attach to its reports. Errors name the path that cannot be used."""
    if fmt not in FORMATS:
        raise ReviewerError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    found: list[ImportFile] = []
    ignored: Counter[str] = Counter()
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                kind = _EXTENSIONS.get(file.suffix.lower())
                if kind and fmt in ("auto", kind):
                    found.append(ImportFile(file, kind, path_text(rel.with_suffix(""))))
                else:
                    ignored[file.suffix.lower() or file.name] += 1
        elif path.is_file():
            kind = fmt if fmt != "auto" else _EXTENSIONS.get(path.suffix.lower(), "")
            if not kind:
                raise ReviewerError(
                    f"{path}: cannot tell the format from the extension; use --format"
                )
            found.append(ImportFile(path, kind, path_text(Path(path.stem))))
        else:
            raise ReviewerError(f"{path}: no such file or folder")
    if not found:
        raise ReviewerError(
            f"no {'importable' if fmt == 'auto' else fmt} files in "
            + ", ".join(str(p) for p in paths)
        )
    order = {"text": 0, "jsonl": 1}
    return ImportPlan(sorted(found, key=lambda f: order[f.format]), ignored)


def read_records(file: ImportFile, encoding: str) -> Iterator[ReportRecord | LineError]:
    """The file's records; a malformed record comes as a ``LineError`` in its place, so the
    reader goes on to the next one (a file that cannot be read at all raises)."""
    if file.format == "text":
        return text_format.read(file.path, file.report_id, encoding=encoding)
    return jsonl_format.read(file.path, encoding=encoding)


def import_paths(
    store: Store,
    paths: list[Path] | ImportPlan,
    *,
    fmt: str = "auto",
    reviewer: str,
    reviewer_override: str | None = None,
    encoding: str = "utf-8",
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import every file found under ``paths``; see the module docstring for the rules.

    ``reviewer`` owns spans that name no reviewer of their own; ``reviewer_override`` (the
    import command's ``--reviewer``) owns every imported span. ``paths`` may also be the
    :class:`ImportPlan` of :func:`collect`, for a caller that sizes a progress bar first.
    """
    plan = paths if isinstance(paths, ImportPlan) else collect(paths, fmt)
    summary = ImportSummary(ignored=plan.ignored)
    for file in plan.files:
        importer = _FileImport(store, file, reviewer, reviewer_override, skip_invalid, summary)
        try:
            with _no_cyclic_gc():
                importer.run(encoding)
        except ReviewerError as exc:
            if not skip_invalid:  # earlier files are committed: the caller may say so
                raise ImportStopped(str(exc), summary) from None
            # A file that cannot be read at all (bad encoding, unreadable) is skipped whole.
            summary.skipped += 1
            summary.errors.append(str(exc))
            continue
        summary.files += 1
        summary.formats[file.format] = summary.formats.get(file.format, 0) + 1
        if progress:
            progress(file.size)
    return summary


_ONE_LINE_FIELDS = ("title", "journal", "published", "doi", "source")
_HEADER_FIELDS = {*_ONE_LINE_FIELDS, "authors"}


def _one_line_field(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(f'meta "{name}" must be a string, not {type(value).__name__}')
    return one_line(str(value)).strip()


def _authors(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
        raise ValidationError('meta "authors" must be a list of names or one string')
    return tuple(one_line(a).strip() for a in value if a.strip())


def _differences(old: Span, new: Span) -> str:
    a, b = old.to_dict(), new.to_dict()
    fields = [k for k in a if k != "id" and a[k] != b[k]] or ["content"]
    return ", ".join(f"{k} ({a[k]!r} stored, {b[k]!r} here)" for k in fields if k in a)


class _FileImport:
    """The import of one file, in one transaction."""

    def __init__(
        self,
        store: Store,
        file: ImportFile,
        reviewer: str,
        override: str | None,
        skip_invalid: bool,
        summary: ImportSummary,
    ) -> None:
        self.store, self.file, self.summary = store, file, summary
        self.reviewer, self.override, self.skip_invalid = reviewer, override, skip_invalid
        self.seen: dict[str, Report] = {}  # reports stored by this file, by id
        self.by_sha: dict[str, str] = {}
        self.occurrences: dict[tuple, int] = {}
        self.labels = {name: name for name in store.labels.names}  # the common, exact case
        # Rows are written in two bulk inserts when the file has been read: interleaving report
        # rows (and their FTS trigger) with span rows makes SQLite several times slower.
        self.new_reports: list[Report] = []
        self.new_spans: dict[str, Span] = {}

    def run(self, encoding: str) -> None:
        # On failure the summary goes back to what it was before this file.
        snapshot = replace(
            self.summary,
            present_ids=set(self.summary.present_ids),
            added_ids=set(self.summary.added_ids),
        )
        try:
            with self.store.write():
                for item in read_records(self.file, encoding):
                    if isinstance(item, LineError):
                        self._fail(item.reason, item.line)
                        continue
                    try:
                        self._import(item)
                    except ValidationError as exc:
                        self._fail(str(exc), item.line)
                self.store.insert_reports(self.new_reports)
                self.store.insert_spans(self.new_spans.values())
                self.store._log_action(self.reviewer, "import", None, str(self.file.path))
        except ReviewerError:
            self.summary.__dict__.update(snapshot.__dict__)
            raise

    def _fail(self, reason: str, line: int | None) -> None:
        name = path_text(self.file.path)
        where = f"{name}:{line}" if line is not None else name
        if not self.skip_invalid:
            raise ReviewerError(f"{where}: {reason}")
        self.summary.skipped += 1
        self.summary.errors.append(f"{where}: {reason}")

    def _import(self, record: ReportRecord) -> None:
        norm = normalise(record.raw_text)
        report = self._report(record, norm.text)
        spans = [self._span(report, record, s, norm) for s in record.spans]
        stored = self.seen.get(report.id) or self.store.get_report(report.id)
        if stored is not None and stored.sha256 != report.sha256:
            raise ValidationError(
                f"report id {report.id!r} is already stored with a different text "
                f"(from {stored.source or 'an earlier import'}; this one from {report.source})"
            )
        # Checked before anything of the record is written. Spans of a report this file is
        # creating can only collide with stored ones through ids the file gives explicitly.
        known = stored is not None
        new_spans = self._new_spans(
            spans, [s.id for s, r in zip(spans, record.spans, strict=True) if known or r.id]
        )
        if stored is None:
            self._add_report(report)
        elif report.id not in self.summary.added_ids:
            self.summary.present_ids.add(report.id)
        self.new_spans.update((span.id, span) for span in new_spans)
        self.summary.spans += len(new_spans)

    def _report(self, record: ReportRecord, text: str) -> Report:
        if not text.strip():
            raise ValidationError("the report text is empty")
        if has_controls(record.id):
            raise ValidationError(f"report id {record.id!r} contains control characters")
        given = {k: v for k, v in record.meta.items() if k not in _HEADER_FIELDS or v}
        meta = {**parse_header(text), **given}  # an empty field in meta leaves the header's
        fields = {k: _one_line_field(k, meta.pop(k, "")) for k in _ONE_LINE_FIELDS}
        authors = _authors(meta.pop("authors", ()))
        return Report(
            id=record.id,
            text=text,
            source=fields.pop("source") or record.source,
            authors=authors,
            meta=clean_value(meta),  # type: ignore[arg-type]
            imported_at=now_iso(),
            **fields,
        )

    def _span(self, report: Report, record: ReportRecord, rec: SpanRecord, norm) -> Span:
        where = f"span {rec.start}-{rec.end}"
        if rec.text is not None and 0 <= rec.start < rec.end <= norm.original_length:
            actual = record.raw_text[rec.start : rec.end]
            if actual != rec.text:
                raise ValidationError(f"{where} says {rec.text!r} but the text there is {actual!r}")
        label = self.labels.get(rec.label) or self.store.labels.resolve(rec.label)
        if label is None:
            raise ValidationError(
                f"{where}: label {rec.label!r} is not in the label schema "
                f"({', '.join(self.store.labels.names)}); add it to labels.toml"
            )
        start, end = norm.map_offset(rec.start), norm.map_offset(rec.end, end=True)
        reviewer = self.override or rec.reviewer or record.annotator or self.reviewer
        span_id = rec.id or self._derived_id(report.id, reviewer, start, end, label)
        if not 0 <= start < end <= len(report.text):
            raise ValidationError(
                f"{where} is outside the text (0-{norm.original_length}) or empty"
            )
        # The covered text is taken from the stored text and the label was resolved against
        # the schema above, so the span is valid by construction (see model.validate_span).
        return Span(
            report_id=report.id,
            start=start,
            end=end,
            label=label,
            text=report.text[start:end],
            reviewer=reviewer,
            id=span_id,
            attributes=rec.attributes,
            note=rec.note,
            created_at=report.imported_at,
            updated_at=report.imported_at,
        )

    def _derived_id(self, report_id: str, reviewer: str, start: int, end: int, label: str) -> str:
        key = (report_id, reviewer, start, end, label)
        n = self.occurrences.get(key, 0)
        self.occurrences[key] = n + 1
        return uuid5(f"{report_id}\x1f{reviewer}\x1f{start}\x1f{end}\x1f{label}\x1f{n}")

    def _add_report(self, report: Report) -> None:
        original = self.by_sha.get(report.sha256) or self._stored_with_sha(report.sha256)
        if original is not None:
            report = replace(report, duplicate_of=original)
            self.summary.duplicates += 1
        else:
            self.by_sha[report.sha256] = report.id
        self.new_reports.append(report)
        self.seen[report.id] = report
        self.summary.added_ids.add(report.id)
        self.summary.reports += 1

    def _stored_with_sha(self, sha: str) -> str | None:
        row = self.store.conn.execute(
            "SELECT id FROM reports WHERE sha256 = ? AND duplicate_of IS NULL ORDER BY seq LIMIT 1",
            (sha,),
        ).fetchone()
        return row[0] if row else None

    def _new_spans(self, spans: list[Span], check_ids: list[str]) -> list[Span]:
        """The spans to insert. A span already stored is not inserted again; one a reviewer
        has edited here since is kept as edited, and one deleted here is not brought back: so
        importing the same file again changes nothing."""
        existing = self.store.spans_by_id(check_ids) if check_ids else {}
        deleted = self.store.deleted_span_ids([i for i in check_ids if i not in existing])
        existing.update((i, self.new_spans[i]) for i in check_ids if i in self.new_spans)
        new: list[Span] = []
        for span in spans:
            old = existing.get(span.id)
            if old is None and span.id in deleted:
                self.summary.spans_deleted_here += 1
            elif old is None:
                new.append(span)
                existing[span.id] = span
            elif old.content() == span.content():
                self.summary.spans_already_present += 1
            elif old.updated_at != old.created_at:
                self.summary.spans_edited_here += 1
            else:
                raise ValidationError(
                    f"span id {span.id} is already stored with another "
                    f"{_differences(old, span)} (in {old.report_id} by {old.reviewer})"
                )
        return new
