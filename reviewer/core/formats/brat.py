"""brat standoff: a ``.txt`` and an ``.ann`` with the same name (see ../shared/FORMATS.md).

Read: T lines become spans (discontinuous ones keep their fragments in the file's order), A/M
lines on a T become attributes, ``#`` AnnotatorNotes on a T the note, N lines on a T its refs, R
lines between two T's relations. Every other line (E events, ``*`` equivalences, and A, R, N, #
lines that point at events) is kept verbatim with the report and written back on export.

Written: the stored text as ``<id>.txt`` and the spans as ``<id>.ann``, T ids reused from the
source where they came from one (so kept event lines still point at the right spans), every
other id numbered after the highest one in use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from reviewer.core.formats.base import LineError, RelationRecord, ReportRecord, SpanRecord
from reviewer.core.model import ReviewerError, Span, covered_text
from reviewer.core.text import BOM, path_text, read_text_file

_ID = re.compile(r"^([A-Z#*])(\d*)")
_LINE = re.compile(r"^(?:[TRENAM#]\d+[^\t]*|\*)\t\S")
_OFFSETS = re.compile(r"^\d+ \d+(;\d+ \d+)*$")


def read(
    txt: Path, ann: Path | None, report_id: str, *, encoding: str = "utf-8"
) -> Iterator[ReportRecord | LineError]:
    """One report from a .txt/.ann pair (no .ann: a report without annotations)."""
    raw = read_text_file(txt, encoding=encoding)
    record = ReportRecord(id=report_id, raw_text=raw, source=path_text(txt), format="brat")
    if ann is None:
        yield record
        return
    lines = [
        (number, line.removesuffix("\r"))
        for number, line in enumerate(read_text_file(ann, encoding=encoding).split("\n"), 1)
        if line.strip()
    ]
    bom = txt.read_bytes().startswith(b"\xef\xbb\xbf")
    record.raw_text, spans, errors = _best_reading(raw, bom, [x for x in lines if x[1][0] == "T"])
    for number, line in lines:
        if line.startswith("T"):
            continue
        if not _LINE.match(line):
            errors.append(LineError(f"not a brat annotation line: {line[:40]!r}", number))
            continue
        try:
            if not _attach(line, spans, record):
                record.kept.append((_kind(line), line))
        except LineError as exc:
            exc.line = exc.line or number
            errors.append(exc)
    record.spans = list(spans.values())
    for span in record.spans:
        span.path = path_text(ann)
    # Each bad line is reported in its place (file:line of the .ann): it stops the import, or
    # with --skip-invalid is counted and the rest of the file kept.
    for error in errors:
        error.path = path_text(ann)
    yield from errors
    yield record


def _best_reading(
    raw: str, bom: bool, t_lines: list[tuple[int, str]]
) -> tuple[str, dict[str, SpanRecord], list[LineError]]:
    """Parse the T lines against the text as brat saw it.

    brat's offsets index the .txt as stored, but which "as stored" depends on the brat version:
    old versions read with universal newlines (CRLF counts one), and a BOM may or may not have
    been counted. When the text has a BOM or a CR, each reading is tried and the first under
    which every span's text matches wins; otherwise (or when none fits) the file as stored.
    """
    readings = [(BOM + raw if bom else raw)]
    if bom or "\r" in raw:
        lf = raw.replace("\r\n", "\n").replace("\r", "\n")
        readings += [BOM + lf] if bom else []
        readings += [raw, lf] if bom else [lf]
    best = None
    for text in readings:
        spans, errors = _t_lines(t_lines, text)
        if not errors:
            return text, spans, errors
        if best is None or len(errors) < len(best[2]):
            best = (text, spans, errors)
    assert best is not None
    return best


def _t_lines(
    t_lines: list[tuple[int, str]], text: str
) -> tuple[dict[str, SpanRecord], list[LineError]]:
    spans: dict[str, SpanRecord] = {}
    errors: list[LineError] = []
    for number, line in t_lines:
        try:
            span = _t_line(line, number, text)
        except LineError as exc:
            errors.append(exc)
            continue
        if span.source_id in spans:
            errors.append(LineError(f"{span.source_id} is defined twice", number))
            continue
        spans[span.source_id] = span
    return spans, errors


def conf_entities(txt: Path, root: Path) -> list[str]:
    """The entity types of the ``annotation.conf`` that governs ``txt`` (brat looks in the
    document's folder, then its parents); only folders up to ``root`` are searched."""
    folder = txt.parent
    while True:
        conf = folder / "annotation.conf"
        if conf.is_file():
            return _entities(read_text_file(conf))
        if folder == root or folder == folder.parent or root not in folder.parents:
            return []
        folder = folder.parent


def _entities(conf: str) -> list[str]:
    names: list[str] = []
    section = ""
    for line in conf.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif section == "entities" and stripped and not stripped.startswith(("#", "-")):
            name = stripped.split()[0].lstrip("!")
            if name and name not in names:
                names.append(name)
    return names


def _kind(line: str) -> str:
    match = _ID.match(line)
    return match.group(1) if match else "?"


def _t_line(line: str, number: int, raw: str) -> SpanRecord:
    parts = line.split("\t", 2)
    if len(parts) < 2 or " " not in parts[1]:
        raise LineError("a T line needs 'ID<TAB>Type START END<TAB>text'", number)
    label, offsets = parts[1].split(" ", 1)
    if not label:
        raise LineError("a T line needs a type before its offsets", number)
    if not _OFFSETS.match(offsets.strip()):
        raise LineError(f"bad offsets {offsets!r} (want 'START END' or 'S1 E1;S2 E2')", number)
    fragments = tuple(
        (int(a), int(b)) for a, b in (f.split(" ") for f in offsets.strip().split(";"))
    )
    if any(s >= e for s, e in fragments):
        raise LineError(f"an empty or reversed fragment in {offsets!r}", number)
    if any(e > len(raw) for _, e in fragments):
        raise LineError(f"offsets {offsets!r} are past the end of the text ({len(raw)})", number)
    text = parts[2] if len(parts) > 2 else None
    if text is not None:
        expected = covered_text(raw, fragments)
        # A stray extra tab field after the text (seen in MACCROBAT and PHEE) is not text.
        if text != expected and text.split("\t")[0] == expected:
            text = expected
        if text != expected:
            raise LineError(f"says {text!r} but the text at {offsets} is {expected!r}", number)
    return SpanRecord(
        start=min(s for s, _ in fragments),
        end=max(e for _, e in fragments),
        label=label,
        text=text,
        fragments=fragments if len(fragments) > 1 else (),
        source_id=parts[0],
        line=number,
    )


def _attach(line: str, spans: dict[str, SpanRecord], record: ReportRecord) -> bool:
    """Put an A/M, #, N or R line on the spans it names; False when it is not about T's."""
    parts = line.split("\t")
    fields = parts[1].split() if len(parts) > 1 else []
    kind = _kind(line)
    if kind in "AM" and len(fields) in (2, 3) and fields[1] in spans:
        spans[fields[1]].attributes[fields[0]] = fields[2] if len(fields) == 3 else True
        return True
    if kind == "#" and len(fields) == 2 and fields[1] in spans:
        note = parts[2] if len(parts) > 2 else ""
        span = spans[fields[1]]
        span.note = f"{span.note}\n{note}" if span.note else note
        return True
    if kind == "N" and len(fields) == 3 and fields[1] in spans:
        display = parts[2] if len(parts) > 2 else ""
        spans[fields[1]].refs.append({"type": fields[0], "ref": fields[2], "text": display})
        return True
    if kind == "R" and len(fields) == 3:
        args = [f.split(":", 1) for f in fields[1:]]
        if all(len(a) == 2 and a[1] in spans for a in args):
            (r1, a1), (r2, a2) = args
            record.relations.append(RelationRecord(fields[0], r1, a1, r2, a2, parts[0]))
            return True
    return False


# --- writing ----------------------------------------------------------------------------------


class _Ids:
    """Allocates brat ids: reuses a source id when it is free, else the next number."""

    def __init__(self, taken: list[str], reserved: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        # reserved: ids that kept lines name. Only the span that came with that id may take it
        # again; a new span never does, or a kept event would sit on the wrong text.
        self.used = set(taken)
        self.reserved = set(reserved)
        self.next: dict[str, int] = {}
        for ident in [*taken, *reserved]:
            match = _ID.match(ident)
            if match and match.group(2):
                prefix, n = match.group(1), int(match.group(2))
                self.next[prefix] = max(self.next.get(prefix, 1), n + 1)

    def take(self, prefix: str, wanted: str = "") -> str:
        if wanted and wanted.startswith(prefix) and wanted not in self.used:
            match = _ID.match(wanted)
            if match and match.group(2) and len(wanted) == len(match.group(0)):
                self.used.add(wanted)
                n = int(match.group(2))
                self.next[prefix] = max(self.next.get(prefix, 1), n + 1)
                return wanted
        n = self.next.get(prefix, 1)
        while f"{prefix}{n}" in self.used or f"{prefix}{n}" in self.reserved:
            n += 1
        self.next[prefix] = n + 1
        self.used.add(f"{prefix}{n}")
        return f"{prefix}{n}"


def ann_lines(
    text: str,
    spans: list[Span],
    relations: list[dict[str, str]],
    kept: list[str],
    dropped: list[str] | None = None,
) -> list[str]:
    """The .ann lines for one report: T lines (and their A, #, N), R lines, then kept lines.

    A span that crosses a line break cannot be one brat fragment (the .ann is line-based), so
    it is written as fragments split at the breaks, as brat itself does.
    """
    ids = _Ids([line.split("\t", 1)[0] for line in kept], {r for line in kept for r in _refs(line)})
    wanted = sorted(spans, key=lambda s: (not s.source_id.startswith("T"), s.start, s.end))
    t_of: dict[str, str] = {span.id: ids.take("T", span.source_id) for span in wanted}
    lines: list[str] = []
    for span in spans:
        names = [span.label, *span.attributes, *(str(v) for v in span.attributes.values())]
        if any(len(name.split()) != 1 for name in names):
            raise ReviewerError(
                f"span {span.start}-{span.end} in {span.report_id}: brat cannot write a label, "
                f"attribute or value with a space ({', '.join(map(repr, names))}); rename it "
                "(import --map)"
            )
    for span in sorted(spans, key=lambda s: (s.start, s.end, t_of[s.id])):
        t = t_of[span.id]
        pieces = _without_breaks(text, span.pieces)
        offsets = ";".join(f"{s} {e}" for s, e in pieces)
        lines.append(f"{t}\t{span.label} {offsets}\t{covered_text(text, pieces)}")
    for span in spans:
        t = t_of[span.id]
        for name, value in span.attributes.items():
            if value is False or value is None:
                continue
            tail = "" if value is True else f" {value}"
            lines.append(f"{ids.take('A')}\t{name} {t}{tail}")
        for ref in span.refs:
            lines.append(f"{ids.take('N')}\t{ref['type']} {t} {ref['ref']}\t{ref.get('text', '')}")
        if span.note:
            for note in span.note.split("\n"):
                lines.append(f"{ids.take('#')}\tAnnotatorNotes {t}\t{note}")
    for rel in relations:
        if rel["arg1"] in t_of and rel["arg2"] in t_of:
            lines.append(
                f"{ids.take('R', rel['source_id'])}\t{rel['type']} "
                f"{rel['arg1_role']}:{t_of[rel['arg1']]} {rel['arg2_role']}:{t_of[rel['arg2']]}"
            )
    return lines + _still_valid(kept, set(t_of.values()), dropped)


_REF = re.compile(r"(?<![\w-])([TERANM#]\d+)\b")


def _refs(line: str) -> list[str]:
    """The ids a line names in its data field (not in a note's free text)."""
    parts = line.split("\t")
    return _REF.findall(parts[1]) if len(parts) > 1 else []


def _still_valid(kept: list[str], spans: set[str], dropped: list[str] | None) -> list[str]:
    """Kept lines whose every T (and, in turn, every E, R... they name) is still written.

    A kept event whose trigger span was dropped (--drop-unmapped), deleted or filtered out of
    this export would make brat refuse the file: such lines go, and so do the lines that point
    at them, each one described in ``dropped``.
    """
    defined = {line.split("\t", 1)[0] for line in kept} | spans
    out = list(kept)
    changed = True
    while changed:
        changed = False
        for line in list(out):
            missing = [ref for ref in _refs(line) if ref not in defined]
            if missing:
                out.remove(line)
                defined.discard(line.split("\t", 1)[0])
                changed = True
                if dropped is not None:
                    dropped.append(
                        f"{line.split(chr(9), 1)[0]} points at {missing[0]}, which is not written"
                    )
    return out


def _without_breaks(text: str, pieces: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in pieces:
        pos = start
        for part in text[start:end].split("\n"):
            if part:
                out.append((pos, pos + len(part)))
            pos += len(part) + 1
    return tuple(out) or pieces


def target_paths(folder: Path, report_ids: list[str]) -> dict[str, Path]:
    """Where each report goes (``<folder>/<id>``, without extension), checked all at once: an
    id that leads outside ``folder`` or onto another id's files is an error."""
    root = folder.resolve()
    out: dict[str, Path] = {}
    seen: dict[Path, str] = {}
    for report_id in report_ids:
        base = (root / report_id).resolve()
        if root not in base.parents:
            raise ReviewerError(f"report id {report_id!r} would be written outside {folder}")
        if base in seen:
            raise ReviewerError(
                f"report ids {seen[base]!r} and {report_id!r} would both be written as "
                f"{base.relative_to(root)}.txt/.ann"
            )
        seen[base] = report_id
        out[report_id] = base
    return out


def write_report(base: Path, text: str, lines: list[str]) -> None:
    """``<base>.txt`` and ``<base>.ann`` (an id with ``/`` makes subfolders)."""
    from reviewer.core.exporter import write_atomic  # the exporter imports this module

    base.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(base.with_name(base.name + ".txt"), [text])
    write_atomic(base.with_name(base.name + ".ann"), [line + "\n" for line in lines])
