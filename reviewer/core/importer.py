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
import hashlib
import pickle
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewer.core.formats import brat as brat_format
from reviewer.core.formats.base import LineError, ReportRecord, SpanRecord
from reviewer.core.model import (
    LabelSchema,
    Report,
    ReviewerError,
    Span,
    ValidationError,
    covered_text,
    differences,
    now_iso,
    validate_span,
)
from reviewer.core.rows import (
    insert_span_rows,
    no_cyclic_gc,
    span_from_json,
    span_from_row,
    span_params,
)
from reviewer.core.schema import with_imported
from reviewer.core.sources import ImportFile, ImportPlan, collect, read_records
from reviewer.core.store import Change, Store
from reviewer.core.text import (
    Normalised,
    clean_value,
    has_controls,
    normalise,
    one_line,
    parse_header,
    path_text,
)

# Formats whose types are their own vocabulary: an unmapped type becomes a label of its own.
_OWN_TYPES = ("brat", "pubtator")
_SPAN_NAMESPACE = uuid.UUID("9a7c1d2e-4b1f-5c3a-9e8d-6f0b2a4c8e11").bytes


_NAMESPACE_SHA1 = hashlib.sha1(_SPAN_NAMESPACE)
_Sha1 = type(_NAMESPACE_SHA1)
# The hex digit of a UUID's variant nibble (RFC 4122: its two high bits are 10), by the digit.
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def _uuid5_from(sha: _Sha1) -> str:
    """The UUID (version 5) string of a SHA-1 over the namespace and a name."""
    h = sha.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def uuid5(name: str) -> str:
    """``str(uuid.uuid5(_SPAN_NAMESPACE, name))``, without building a UUID object per span."""
    sha = _NAMESPACE_SHA1.copy()
    sha.update(name.encode("utf-8"))
    return _uuid5_from(sha)


def _uuid5_prefix(prefix: str) -> _Sha1:
    """A SHA-1 that has read the namespace and ``prefix``: ``copy()`` it and ``update()`` it
    with the rest of a name to get the name's :func:`uuid5` (through :func:`_uuid5_from`)."""
    sha = _NAMESPACE_SHA1.copy()
    sha.update(prefix.encode("utf-8"))
    return sha


Progress = Callable[[int], None]

# A file of at least this many bytes is read in a process of its own while its rows are written
# (see _FileImport._read_beside); rows are written every CHUNK_SPANS spans.
CONCURRENT_BYTES = 4_000_000
CHUNK_SPANS = 20_000


class ReaderFailed(ReviewerError):
    """The reading process of a large file stopped without saying why (a crash, no memory):
    the import stops, even with ``skip_invalid``, since the file itself may be fine."""


@dataclass(frozen=True)
class Chunk:
    """Reports and span rows read and not yet written: reports first, then their spans."""

    reports: list[Report]
    spans: list[tuple]  # in the span_params form


@dataclass(frozen=True)
class ReadJob:
    """What a reading process needs to read a file as this process would."""

    db: Path
    schema: LabelSchema  # the importing store's schema, to open the database with
    labels: LabelSchema  # and its labels as it knows them (the schema and imported ones)
    file: ImportFile
    options: ImportOptions
    summary: ImportSummary
    empty: bool
    chunk_spans: int


@dataclass(frozen=True)
class ReadResult:
    """What a reading process hands back at the end, besides the chunks of rows."""

    summary: ImportSummary
    new_labels: list[str]
    new_relations: list[tuple]
    new_kept: list[tuple]
    file_versions: list[Change]


def read_for(job: ReadJob, emit: Callable[[object], None]) -> None:
    """Read ``job.file`` as :meth:`_FileImport._read` does, in a reading process: each chunk
    of rows, then the :class:`ReadResult`, go to ``emit``."""
    with Store(job.db, labels=job.schema) as store:
        store.labels = job.labels  # as the importing store knows them, not as read now
        reading = _FileImport(store, job.file, job.options, job.summary)
        reading.empty = job.empty
        with no_cyclic_gc():
            reading._read(emit, job.chunk_spans)
        emit(reading.read_result())


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
    spans_taken: int = 0  # changed in the file, not here: the file's version taken
    kept_here: list[str] = field(default_factory=list)  # each span kept as it is here, and why
    duplicates: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)
    labels: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, became) -> n
    new_labels: set[str] = field(default_factory=set)
    kept: Counter[tuple[str, str]] = field(default_factory=Counter)  # (line kind, fate) -> n

    @property
    def already_present(self) -> int:
        """Reports that were stored before this import began."""
        return len(self.present_ids)

    def details(self) -> list[str]:
        """What the labels became and which source lines were kept, for the lines after the
        summary: ``Medication -> drug: 1080``, ``kept E lines: 14368``."""
        out = [
            f"label {src} -> {dst or '(dropped)'}: {n}"
            for (src, dst), n in sorted(self.labels.items())
            if src != dst
        ]
        out += [
            f"label {src} (new, kept as it is): {n}"
            for (src, dst), n in sorted(self.labels.items())
            if src == dst and dst in self.new_labels
        ]
        out += [f"{fate} {kind} lines: {n}" for (kind, fate), n in sorted(self.kept.items())]
        return out

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
        if self.spans_taken:
            text += f", {self.spans_taken} spans updated from the file"
        if self.skipped:
            text += f", {self.skipped} invalid record{'s' * (self.skipped != 1)} skipped"
        if self.ignored:
            n = sum(self.ignored.values())
            kinds = ", ".join(f"{c} {ext}" for ext, c in sorted(self.ignored.items()))
            text += f"; {n} other file{'s' * (n != 1)} not imported ({kinds})"
        return text + "."


class ImportStopped(ReviewerError):
    """An import stopped by an error; ``summary`` says what the files before it brought in
    (they are committed, each in its own transaction)."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class ImportOptions:
    """How one import reads its files (see :func:`import_paths`)."""

    reviewer: str
    override: str | None = None
    encoding: str = "utf-8"
    skip_invalid: bool = False
    label_map: dict[str, str] = field(default_factory=dict)
    drop_unmapped: bool = False
    offsets: str = "codepoints"
    new_labels: bool = False


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
    label_map: dict[str, str] | None = None,
    drop_unmapped: bool = False,
    offsets: str = "codepoints",
    new_labels: bool = False,
) -> ImportSummary:
    """Import every file found under ``paths``; see the module docstring for the rules.

    ``reviewer`` owns spans that name no reviewer of their own; ``reviewer_override`` (the
    import command's ``--reviewer``) owns every imported span. ``paths`` may also be the
    :class:`ImportPlan` of :func:`collect`, for a caller that sizes a progress bar first.

    ``label_map`` renames source labels (``{"Medication": "drug"}``). A label neither in the
    schema nor mapped is an error (a typo should not become a label), except in formats that
    define their own types (brat, PubTator) or with ``new_labels``: then it is kept as a label
    of its own, or dropped with its spans when ``drop_unmapped``.
    """
    plan = paths if isinstance(paths, ImportPlan) else collect(paths, fmt)
    options = ImportOptions(
        reviewer,
        reviewer_override,
        encoding,
        skip_invalid,
        label_map or {},
        drop_unmapped,
        offsets,
        new_labels,
    )
    summary = ImportSummary(ignored=plan.ignored)
    for file in plan.files:
        try:
            with no_cyclic_gc():
                _FileImport(store, file, options, summary).run()
        except ReviewerError as exc:
            if not skip_invalid or isinstance(exc, ReaderFailed):  # earlier files are committed
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
    if value is None or value == "":
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


def _all_plain(spans: list[SpanRecord]) -> bool:
    """Whether every span is plain: one piece, no id of its own, no attributes, no refs. The
    row of such a span turns back into the same ``Span`` (see :func:`_as_span`)."""
    return not any(rec.fragments or rec.id or rec.attributes or rec.refs for rec in spans)


def _as_span(span: Span | tuple) -> Span:
    """A span this file is adding, as a ``Span`` (the fast path keeps only its row)."""
    return span if isinstance(span, Span) else span_from_row(span)


class _SpanInvalid(ValidationError):
    """A span that does not fit, with the record of where it was stated."""

    def __init__(self, message: str, rec: SpanRecord) -> None:
        super().__init__(message)
        self.rec = rec


class _FileImport:
    """The import of one file, in one transaction."""

    def __init__(
        self, store: Store, file: ImportFile, options: ImportOptions, summary: ImportSummary
    ) -> None:
        self.store, self.file, self.options, self.summary = store, file, options, summary
        self.checked_names: set[str] = {options.reviewer}  # reviewer names found acceptable
        self.any_deleted = store.has_deletions()  # asked once: this file deletes nothing
        self.seen: dict[str, Report] = {}  # reports stored by this file, by id
        self.by_sha: dict[str, str] = {}
        # How many spans with the same report, reviewer and stem (offsets and label, see
        # _derived_id) came before, by (report, reviewer) and then by stem.
        self.occurrences: dict[tuple[str, str], dict[str, int]] = {}
        self.labels = {name: name for name in store.labels.names}  # the common, exact case
        # What _label gave for a source label, by format: (label, its summary.labels key).
        # Emptied whenever a label is added, since that can change the answer.
        self.label_cache: dict[str, dict[str, tuple[str, tuple[str, str]]]] = {}
        self.empty = False  # the database holds no report (asked in run, in the transaction)
        self.new_labels: list[str] = []
        self.new_relations: list[tuple] = []
        self.new_kept: list[tuple] = []
        # Rows are written in chunks, each its reports then its spans (interleaving report rows,
        # and their FTS trigger, with span rows makes SQLite several times slower). These are
        # the reports read and not yet handed to the writing (see _take).
        self.new_reports: list[Report] = []
        # By id: a Span, or (from the fast path, _plain_rows) the row it is stored as.
        self.new_spans: dict[str, Span | tuple] = {}
        self.pending_spans: list[Span | tuple] = []  # those of new_spans not yet handed over
        # (the file's version, ours) of spans kept as edited here, and (ours, the file's) of
        # spans the file changed: applied and logged with the file's rows.
        self.file_versions: list[Change] = []

    def run(self) -> None:
        # On failure the summary goes back to what it was before this file.
        snapshot = replace(
            self.summary,
            present_ids=set(self.summary.present_ids),
            added_ids=set(self.summary.added_ids),
            labels=Counter(self.summary.labels),
            new_labels=set(self.summary.new_labels),
            kept=Counter(self.summary.kept),
            kept_here=list(self.summary.kept_here),
        )
        try:
            # A reading process sees only what is committed: not a caller's own transaction.
            beside = not self.store.conn.in_transaction and self._large()
            with self.store.foreign_keys_unchecked(), self.store.write():
                options = self.options
                # Rows are written only after they are read (in this process, after the whole
                # file is read: an empty database stays empty until then), and a report the
                # database does not hold needs no lookup.
                self.empty = self._database_empty()
                if beside:
                    self._read_beside()
                else:
                    chunks: list[Chunk] = []
                    self._read(chunks.append)
                    for chunk in chunks:
                        self._write(chunk)
                self.store.add_labels(self.new_labels, path_text(self.file.path))
                self.store.insert_relations(self.new_relations)
                self.store.insert_kept_lines(self.new_kept)
                if self.file_versions:  # spans kept as edited here, or updated from the file
                    self.store.record(
                        options.reviewer,
                        f"import {path_text(self.file.path)}: spans kept or updated",
                        self.file_versions,
                        kind="import",
                    )
                self.store.log_action(options.reviewer, "import", None, str(self.file.path))
        except ReviewerError:
            self.summary.__dict__.update(snapshot.__dict__)
            self.store.reload_labels()  # labels this file would have added were rolled back
            raise

    def _large(self) -> bool:
        """Whether to read this file in a process of its own: a large file, a database file
        in WAL mode (where a reader is not blocked by this process's writing), and a Python
        that can start another (not a frozen build)."""
        return (
            self.file.size >= CONCURRENT_BYTES
            and str(self.store.path) != ":memory:"
            and bool(sys.executable)
            and not getattr(sys, "frozen", False)
            and self.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        )

    def _read(self, emit: Callable[[Chunk], None], chunk_spans: int = CHUNK_SPANS) -> None:
        """Read the file's records into reports and span rows, handing them to ``emit`` each
        time ``chunk_spans`` spans (or a tenth as many reports) are read, and at the end; the
        first chunk is an eighth of that, so that writing starts early. Only reads the
        database: this may run in a process of its own (see :meth:`_read_beside`)."""
        options, limit = self.options, max(1, chunk_spans // 8)
        for item in read_records(self.file, options.encoding, options.offsets):
            if isinstance(item, LineError):
                self._fail(item.reason, item.line, item.path)
                continue
            if item.answer != "accept":
                self.summary.kept[("task", f"not imported ({item.answer})")] += 1
                continue
            try:
                self._import(item)
            except _SpanInvalid as exc:
                self._fail(str(exc), exc.rec.line or item.line, exc.rec.path)
            except ValidationError as exc:
                self._fail(str(exc), item.line)
            if len(self.pending_spans) >= limit or 10 * len(self.new_reports) >= limit:
                emit(self._take())
                limit = chunk_spans
        self._conf_labels()
        emit(self._take())

    def _take(self) -> Chunk:
        """The reports and span rows (in the :func:`span_params` form) read since the last."""
        rows = [s if type(s) is tuple else span_params(s) for s in self.pending_spans]
        chunk = Chunk(self.new_reports, rows)
        self.new_reports, self.pending_spans = [], []
        return chunk

    def _write(self, chunk: Chunk) -> None:
        self.store.insert_reports(chunk.reports)
        insert_span_rows(self.store.conn, chunk.spans)

    def _read_beside(self) -> None:
        """Read a large file in a process of its own (:mod:`reviewer.core.import_reader`) while
        this one writes the rows read so far: reading and checking records is Python's work,
        writing them is SQLite's, and the two then share the machine's cores instead of taking
        turns. The reader opens the database itself and sees it as it was before this file
        (this process holds the write lock); it reads exactly as :meth:`_read` does here, then
        hands back what the rest of :meth:`run` writes, and the summary. Its errors are raised
        here; an error here (or Ctrl-C) stops it before the transaction is rolled back."""
        store = self.store
        job = ReadJob(
            store.path,
            store.schema,
            store.labels,
            self.file,
            self.options,
            self.summary,
            self.empty,
            CHUNK_SPANS,
        )
        # The reader runs this process's copy of the package (not one the current folder or
        # PYTHONPATH would find first), with this interpreter's flags. Its stderr goes to a
        # file: a pipe nobody reads while it runs could fill and stall it.
        root = str(Path(__file__).resolve().parents[2])
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "import reviewer.core.import_reader as r; r.main()"
        )
        flags = getattr(subprocess, "_args_from_interpreter_flags", list)()
        with tempfile.TemporaryFile() as errors:
            reader = subprocess.Popen(
                [sys.executable, *flags, "-c", code, root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            assert reader.stdin is not None and reader.stdout is not None
            try:
                # A reader that stopped at once is said below, from what it left on stderr.
                with contextlib.suppress(BrokenPipeError), reader.stdin:
                    pickle.dump(job, reader.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                while True:
                    try:
                        item = pickle.load(reader.stdout)
                    except Exception:  # it stopped, or wrote something else
                        reader.kill()
                        reader.wait()
                        errors.seek(0)
                        why = errors.read().decode(errors="replace").strip().splitlines()
                        raise ReaderFailed(
                            f"{path_text(self.file.path)}: the reading process stopped "
                            f"(exit code {reader.returncode}"
                            + (f": {why[-1]}" if why else "")
                            + ")"
                        ) from None
                    if isinstance(item, Chunk):
                        self._write(item)
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        self._adopt(item)
                        break
            finally:
                if reader.poll() is None:
                    reader.kill()
                reader.wait()
                reader.stdout.close()

    def _adopt(self, read: ReadResult) -> None:
        """What a reading process read besides the rows (see :meth:`_read_beside`)."""
        self.summary.__dict__.update(read.summary.__dict__)
        self.new_labels = read.new_labels
        self.new_relations = read.new_relations
        self.new_kept = read.new_kept
        self.file_versions = read.file_versions

    def read_result(self) -> ReadResult:
        return ReadResult(
            self.summary, self.new_labels, self.new_relations, self.new_kept, self.file_versions
        )

    def _logged(self, span: Span) -> bool:
        """Whether the log already holds this version of the span (times aside)."""
        rows = self.store.conn.execute(
            "SELECT before, after FROM events WHERE span_id = ?", (span.id,)
        )
        versions = {
            repr(s.content()) for row in rows for s in map(span_from_json, row) if s is not None
        }
        return repr(span.content()) in versions

    def _database_empty(self) -> bool:
        return self.store.conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone() is None

    def _conf_labels(self) -> None:
        """brat's annotation.conf supplies the label set: its entity types become labels
        (through the label map) even where no span uses them yet."""
        if self.file.format != "brat" or self.file.root is None:
            return
        label_map = self.options.label_map
        for source in brat_format.conf_entities(self.file.path, self.file.root):
            target = label_map.get(source, source)
            if target not in self.labels and not (
                self.options.drop_unmapped and source not in label_map
            ):
                self._keep_new_label(target)

    def _fail(self, reason: str, line: int | None, path: str | None = None) -> None:
        name = path or path_text(self.file.path)
        where = f"{name}:{line}" if line is not None else name
        if not self.options.skip_invalid:
            raise ReviewerError(f"{where}: {reason}")
        self.summary.skipped += 1
        self.summary.errors.append(f"{where}: {reason}")

    def _import(self, record: ReportRecord) -> None:
        norm = normalise(record.raw_text)
        report = self._report(record, norm.text)
        stored = self._stored(report.id)
        if stored is None and not record.relations and _all_plain(record.spans):
            # The common case, a new report whose spans are plain: their rows are built directly.
            rows = self._plain_rows(report, record, norm)  # by id
            kept = self._kept(report, record, [])
            self._add_report(report)
            self.new_spans.update(rows)
            self.pending_spans += rows.values()
            self.summary.spans += len(rows)
            self.new_kept += kept
            return
        built = [(self._checked_span(report, record, s, norm), s) for s in record.spans]
        pairs = [(span, rec) for span, rec in built if span is not None]
        spans = [span for span, _ in pairs]
        if stored is not None and stored[0] != report.sha256:
            raise ValidationError(
                f"report id {report.id!r} is already stored with a different text "
                f"(from {stored[1] or 'an earlier import'}; this one from {report.source})"
            )
        # Checked before anything of the record is written. Spans of a report this file is
        # creating can only collide with stored ones through ids the file gives explicitly.
        known = stored is not None
        new_spans = self._new_spans(spans, [s.id for s, r in pairs if known or r.id])
        relations = self._relations(report, record, pairs)
        kept = self._kept(report, record, spans)
        if stored is None:
            self._add_report(report)
        elif report.id not in self.summary.added_ids:
            self.summary.present_ids.add(report.id)
        self.new_spans.update((span.id, span) for span in new_spans)
        self.pending_spans += new_spans
        self.summary.spans += len(new_spans)
        self.new_relations += relations
        self.new_kept += kept

    def _stored(self, report_id: str) -> tuple[str, str] | None:
        """The sha256 and source of the report stored (or stored by this file) as ``report_id``."""
        seen = self.seen.get(report_id)
        if seen is not None:
            return seen.sha256, seen.source
        if self.empty:
            return None
        row = self.store.conn.execute(
            "SELECT sha256, source FROM reports WHERE id = ?", (report_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

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

    def _span(
        self, report: Report, record: ReportRecord, rec: SpanRecord, norm: Normalised
    ) -> Span | None:
        pieces = rec.fragments or ((rec.start, rec.end),)
        if rec.text is not None and all(0 <= a < b <= norm.original_length for a, b in pieces):
            actual = covered_text(record.raw_text, pieces)
            if actual != rec.text:
                raise ValidationError(
                    f"span {rec.start}-{rec.end} says {rec.text!r} but the text there is {actual!r}"
                )
        label = self._label(rec.label, record)
        if label is None:
            return None
        if norm.removed:
            mapped = tuple((norm.map_offset(a), norm.map_offset(b, end=True)) for a, b in pieces)
        else:
            mapped = pieces
        if rec.fragments:
            start, end = min(a for a, _ in mapped), max(b for _, b in mapped)
        else:
            ((start, end),) = mapped
        if not all(0 <= a < b <= len(report.text) for a, b in mapped):
            raise ValidationError(
                f"span {rec.start}-{rec.end} is outside the text (0-{norm.original_length}) "
                "or empty"
            )
        reviewer = self._reviewer(record, rec.reviewer)
        fragments = mapped if rec.fragments else ()
        span_id = rec.id or self._derived_id(
            report.id, reviewer, start, end, label if not fragments else f"{label}{fragments}"
        )
        span = Span(
            report_id=report.id,
            start=start,
            end=end,
            label=label,
            text=covered_text(report.text, mapped) if fragments else report.text[start:end],
            reviewer=reviewer,
            id=span_id,
            attributes=rec.attributes,
            note=rec.note,
            created_at=report.imported_at,
            updated_at=report.imported_at,
            fragments=fragments,
            refs=rec.refs,
            source_id=rec.source_id,
        )
        if fragments:
            validate_span(span, report.text, with_imported(self.store.labels, [label]))
        # Otherwise valid by construction: the text is the stored slice and the label resolved.
        return span

    def _plain_rows(
        self, report: Report, record: ReportRecord, norm: Normalised
    ) -> dict[str, tuple]:
        """The rows of a new report's spans, all plain (see :func:`_all_plain`), by id and in
        the :func:`span_params` form: what :meth:`_span` and :meth:`_new_spans` make of them,
        with the same checks in the same order, the same errors and the same counts, without
        building a ``Span`` for each. None of them can be stored already: the report is new and
        their ids are derived, so distinct."""
        raw, text, rid, at = record.raw_text, report.text, report.id, report.imported_at
        original_length, length, removed = norm.original_length, len(text), norm.removed
        # As _reviewer names them; a name is checked when it first differs from the span before.
        override, fallback = self.options.override, record.annotator or self.options.reviewer
        labels = self.label_cache.setdefault(record.format, {})
        counts, occurrences = self.summary.labels, self.occurrences
        rows: dict[str, tuple] = {}
        # What the derived ids of one reviewer's spans share (set at the first span).
        prefix_name: str | None = None
        prefix, before = _NAMESPACE_SHA1, {}
        for rec in record.spans:
            try:
                start, end, given = rec.start, rec.end, rec.text
                if given is not None and 0 <= start < end <= original_length:
                    actual = raw[start:end]
                    if actual != given:
                        raise ValidationError(
                            f"span {start}-{end} says {given!r} but the text there is {actual!r}"
                        )
                cached = labels.get(rec.label)
                if cached is None:
                    label = self._label(rec.label, record)  # counts it
                    if label is None:
                        continue
                    labels[rec.label] = (label, (rec.label, label))
                else:
                    label, key = cached
                    counts[key] += 1
                if removed:
                    start, end = norm.map_offset(start), norm.map_offset(end, end=True)
                if not 0 <= start < end <= length:
                    raise ValidationError(
                        f"span {rec.start}-{rec.end} is outside the text (0-{original_length}) "
                        "or empty"
                    )
                name = override or rec.reviewer or fallback
                if name != prefix_name:
                    self._reviewer(record, rec.reviewer)
                    prefix, prefix_name = _uuid5_prefix(f"{rid}\x1f{name}\x1f"), name
                    before = occurrences.setdefault((rid, name), {})
            except ValidationError as exc:
                raise _SpanInvalid(str(exc), rec) from None
            # _derived_id and uuid5, inline, continuing the hash of the shared prefix.
            stem = f"{start}\x1f{end}\x1f{label}\x1f"
            n = before.get(stem, 0)
            before[stem] = n + 1
            sha = prefix.copy()
            sha.update(f"{stem}{n}".encode())
            span_id = _uuid5_from(sha)
            rows[span_id] = (
                span_id,
                rid,
                start,
                end,
                label,
                text[start:end],
                name,
                "{}",
                rec.note,
                at,
                at,
                "",
                "",
                rec.source_id,
            )
        return rows

    def _checked_span(
        self, report: Report, record: ReportRecord, rec: SpanRecord, norm: Normalised
    ) -> Span | None:
        try:
            return self._span(report, record, rec, norm)
        except ValidationError as exc:
            raise _SpanInvalid(str(exc), rec) from None

    def _reviewer(self, record: ReportRecord, own: str | None = None) -> str:
        """Who owns what a record brings: --reviewer, else the span's or the record's own
        reviewer, else the importing user. A name from a file is checked once per file."""
        name = self.options.override or own or record.annotator or self.options.reviewer
        if name not in self.checked_names:
            if not name.strip() or has_controls(name):
                raise ValidationError(f"reviewer name {name!r} is empty or has control characters")
            self.checked_names.add(name)
        return name

    def _keep_new_label(self, label: str) -> None:
        """Add a label the schema lacks; it is stored with the file's other rows."""
        self.labels[label] = label
        self.new_labels.append(label)
        for cache in self.label_cache.values():
            cache.clear()

    def _label(self, source: str, record: ReportRecord) -> str | None:
        """The label a source label becomes (None: the span is dropped); counted per pair."""
        target = self.options.label_map.get(source, source)
        label = self.labels.get(target)
        explicit = source in self.options.label_map  # --map Drug=Drug means Drug, not drug
        # Case is folded (Prodigy's DRUG is drug) only where labels are not taken exactly as
        # written: brat and PubTator types, an explicit --map, and --new-labels (so an export
        # holding both Drug and drug imports back as both) are exact.
        exact = record.format in _OWN_TYPES or explicit or self.options.new_labels
        if label is None and not exact:
            label = self.store.labels.resolve(target)
        if label is None:
            if self.options.drop_unmapped and not explicit:
                self.summary.labels[(source, "")] += 1
                return None
            if record.format not in _OWN_TYPES and not explicit and not self.options.new_labels:
                raise ValidationError(
                    f"label {source!r} is not in the label schema "
                    f"({', '.join(self.store.labels.names)}); add it to labels.toml, map it "
                    "with --map, or keep it with --new-labels"
                )
            label = target
            if has_controls(label):
                raise ValidationError(f"label {label!r} contains control characters")
            self._keep_new_label(label)
            self.summary.new_labels.add(label)
        self.summary.labels[(source, label)] += 1
        return label

    def _relations(
        self, report: Report, record: ReportRecord, pairs: list[tuple[Span, SpanRecord]]
    ) -> list[tuple]:
        by_source = {rec.source_id: span for span, rec in pairs if rec.source_id}
        rows = []
        for n, rel in enumerate(record.relations):
            a, b = by_source.get(rel.arg1), by_source.get(rel.arg2)
            if a is None or b is None:  # an argument was dropped (--drop-unmapped)
                self.summary.kept[("R", "dropped with its span")] += 1
                continue
            rid = uuid5(f"{report.id}\x1fR\x1f{a.reviewer}\x1f{rel.source_id}\x1f{n}")
            rows.append(
                (
                    rid,
                    report.id,
                    rel.type,
                    rel.arg1_role,
                    a.id,
                    rel.arg2_role,
                    b.id,
                    a.reviewer,
                    rel.source_id,
                    report.imported_at,
                )
            )
        return rows

    def _kept(self, report: Report, record: ReportRecord, spans: list[Span]) -> list[tuple]:
        if not record.kept:
            return []
        reviewer = self._reviewer(record)
        lines = [line for _, line in record.kept]
        stored = self.store.kept_lines(report.id, record.format, reviewer)
        if stored:
            if stored != lines:
                raise ValidationError(
                    "the lines kept from an earlier import of this report differ from these"
                )
            return []
        for kind, _ in record.kept:
            self.summary.kept[(kind, "kept")] += 1
        return [
            (report.id, reviewer, record.format, i, kind, line)
            for i, (kind, line) in enumerate(record.kept)
        ]

    def _derived_id(self, report_id: str, reviewer: str, start: int, end: int, label: str) -> str:
        counts = self.occurrences.setdefault((report_id, reviewer), {})
        stem = f"{start}\x1f{end}\x1f{label}\x1f"  # (start and end hold no \x1f: one stem each)
        n = counts.get(stem, 0)
        counts[stem] = n + 1
        return uuid5(f"{report_id}\x1f{reviewer}\x1f{stem}{n}")

    def _add_report(self, report: Report) -> None:
        original = self.by_sha.get(report.sha256)
        if original is None and not self.empty:
            original = self._stored_with_sha(report.sha256)
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
        deleted = (
            self.store.deleted_span_ids([i for i in check_ids if i not in existing])
            if self.any_deleted
            else set()
        )
        existing.update((i, _as_span(self.new_spans[i])) for i in check_ids if i in self.new_spans)
        new: list[Span] = []
        for span in spans:
            old = existing.get(span.id)
            if old is None and span.id in deleted:
                self.summary.spans_deleted_here += 1
                self.summary.kept_here.append(
                    f"{span.report_id} {span.start}-{span.end} {span.label} ({span.reviewer}, "
                    f"span {span.id}): deleted here, not restored"
                )
            elif old is None:
                new.append(span)
                existing[span.id] = span
            elif old.content() == span.content():
                self.summary.spans_already_present += 1
            elif old.updated_at != old.created_at:
                self.summary.spans_edited_here += 1
                self.summary.kept_here.append(
                    f"{old.report_id} {old.start}-{old.end} {old.label} ({old.reviewer}, span "
                    f"{old.id}): edited here, kept; the file's version is in the log: "
                    + differences(old, span, "here", "in the file")
                )
                if not self._logged(span):  # logged once: nothing is lost, nothing repeated
                    self.file_versions.append(Change(span, old))
            elif span.id not in self.new_spans and (old.report_id, old.reviewer) == (
                span.report_id,
                span.reviewer,
            ):
                # Changed in the file (a team member's export), not here: the file's version
                # is taken, ours goes to the log, and the case is listed.
                self.summary.spans_taken += 1
                self.summary.kept_here.append(
                    f"{old.report_id} {old.start}-{old.end} {old.label} ({old.reviewer}, span "
                    f"{old.id}): changed in the file, not here: taken from the file, the "
                    "version here is in the log: " + differences(old, span, "here", "in the file")
                )
                self.file_versions.append(Change(old, replace(span, created_at=old.created_at)))
            else:
                raise ValidationError(
                    f"span id {span.id} is already stored with another "
                    f"{differences(old, span, 'stored', 'here')} "
                    f"(in {old.report_id} by {old.reviewer})"
                )
        return new
