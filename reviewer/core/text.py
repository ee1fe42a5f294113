"""Text normalisation, done once at import, and the offset arithmetic that goes with it.

The stored text is what the terminal shows and what every offset indexes, so it must survive
Textual's ``Document`` (which splits lines with ``str.splitlines``) and Rich's ``Text`` (which
drops some controls) without a single code point moving. At import:

* the bytes are decoded (UTF-8 by default; a BOM is dropped; invalid bytes are an error that
  names the file and byte offset);
* CRLF and lone CR become LF; the CR of a CRLF and a leading BOM (in a JSONL "text") are the
  only characters ever removed, and offsets of spans that came with the text are remapped with
  :meth:`Normalised.map_offset`;
* every other character that would break a line or be dropped on screen (``\\v \\f \\x85
  \\u2028 \\u2029``, C0 controls other than tab and newline, DEL, C1 controls) is replaced
  one-for-one by a visible stand-in, so offsets do not move.
"""

from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from reviewer.core.model import ReviewerError

BOM = "\ufeff"

# One visible stand-in per character that cannot be shown as itself. C0 controls use the Unicode
# "Control Pictures" block (U+2400 + code), so ESC shows as ␛ and an ANSI escape is inert.
_STAND_INS: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
del _STAND_INS[0x09], _STAND_INS[0x0A]  # tab and newline are text
_STAND_INS[0x7F] = "\u2421"  # ␡ DEL
_STAND_INS.update({code: "\ufffd" for code in range(0x80, 0xA0)})  # C1 controls: �
_STAND_INS[0x85] = "\u2424"  # ␤ NEL (next line)
_STAND_INS[0x2028] = "\u2424"  # ␤ LINE SEPARATOR
_STAND_INS[0x2029] = "\u00b6"  # ¶ PARAGRAPH SEPARATOR
# For one-line fields (titles, journal names, ids shown in a list): line breaks become spaces.
_ONE_LINE = {**_STAND_INS, 0x09: " ", 0x0A: " ", 0x0D: " ", 0x85: " ", 0x2028: " ", 0x2029: " "}
_NEEDS_WORK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


class DecodeError(ReviewerError):
    """The bytes of a file are not valid in the encoding asked for."""


@dataclass(frozen=True)
class Normalised:
    """Normalised text and where the removed characters were in the original.

    ``removed`` lists, in ascending order, the original offsets of the characters that were
    taken out: a leading BOM (when ``bom``) and the CR of each CRLF. Every other character kept
    its place relative to its neighbours, so an original offset maps to itself minus the
    removals before it.
    """

    text: str
    removed: tuple[int, ...] = ()
    original_length: int = 0
    bom: bool = False

    @property
    def changed_length(self) -> bool:
        return bool(self.removed)

    def map_offset(self, offset: int, *, end: bool = False) -> int:
        """Map an offset into the original text onto the normalised text.

        An ``end`` offset that falls between the CR and LF of a CRLF covered the line break,
        which is now one LF: it maps to just after that LF, so ``"rash\r"`` becomes
        ``"rash\n"`` rather than losing a character. Offsets past the original end shift like
        the end itself, so validation still reports them as out of range.
        """
        if not self.removed:
            return offset
        before = bisect.bisect_left(self.removed, offset)
        mapped = offset - before
        after_cr = before and self.removed[before - 1] == offset - 1
        if end and after_cr and not (self.bom and offset == 1):  # (the BOM is no CR)
            mapped += 1
        return mapped


_UTF8_BOM = b"\xef\xbb\xbf"


def decode(data: bytes, *, encoding: str = "utf-8", source: str = "<input>") -> str:
    """Decode file bytes, dropping a byte-order mark; errors name the file and byte offset
    (counted from the start of the file, BOM included)."""
    codec = encoding.lower().replace("_", "-")
    skipped = 0
    try:
        if codec in ("utf-8", "utf8", "utf-8-sig"):
            if data.startswith(_UTF8_BOM):
                skipped = len(_UTF8_BOM)
            text = data[skipped:].decode("utf-8")
        else:
            codecs.lookup(encoding)
            text = data.decode(encoding)
            if text.startswith(BOM):
                text = text[1:]
    except LookupError:
        raise DecodeError(f"{source}: unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        at = exc.start + skipped
        raise DecodeError(
            f"{source}: invalid {exc.encoding.upper()} at byte {at} "
            f"({data[at : at + 1]!r}); give the right one with --encoding"
        ) from None
    return text


def read_text_file(path: Path, *, encoding: str = "utf-8") -> str:
    """A file's text, decoded as :func:`decode` does, with line endings untouched."""
    name = path_text(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReviewerError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return decode(data, encoding=encoding, source=name)


def path_text(path: Path) -> str:
    """A path as text that can be stored and printed, whatever bytes its name holds."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def normalise(raw: str) -> Normalised:
    """Normalise ``raw`` for storage (see the module docstring) and record what was removed."""
    if not _NEEDS_WORK.search(raw) and "\r" not in raw:
        return Normalised(raw, (), len(raw))
    removed: list[int] = []
    if raw.startswith(BOM):
        removed.append(0)
    pos = raw.find("\r\n")
    while pos != -1:
        removed.append(pos)
        pos = raw.find("\r\n", pos + 2)
    text = raw[1:] if raw.startswith(BOM) else raw
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_STAND_INS)
    return Normalised(text, tuple(removed), len(raw), raw.startswith(BOM))


def one_line(text: str) -> str:
    """``text`` made safe to show on one line: controls as stand-ins, line breaks as spaces.

    For metadata and names, which carry no offsets: nothing that reaches the terminal through
    them can move the cursor, change colours or set the window title.
    """
    return text.translate(_ONE_LINE)


def has_controls(text: str) -> bool:
    """True when ``text`` holds a control character or a line break (tab included)."""
    return text != text.translate(_ONE_LINE)


def clean_value(value: object) -> object:
    """A JSON-like metadata value with every string's controls replaced by stand-ins (line
    breaks and tabs kept: a metadata field may be a paragraph)."""
    if isinstance(value, str):
        if not _NEEDS_WORK.search(value):
            return value
        return value.replace("\r\n", "\n").replace("\r", "\n").translate(_STAND_INS)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {one_line(str(k)): clean_value(v) for k, v in value.items()}
    return value


def is_normalised(text: str) -> bool:
    """True when ``text`` would be stored unchanged."""
    return normalise(text).text == text


# --- the case-report header -------------------------------------------------------------------

_HEADER_KEYS = {
    "title": "title",
    "authors": "authors",
    "author": "authors",
    "affiliation": "affiliation",
    "affiliations": "affiliation",
    "journal": "journal",
    "published": "published",
    "publication date": "published",
    "date": "published",
    "doi": "doi",
}
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z ]{1,30}):\s*(.*?)\s*$")


def parse_header(text: str) -> dict[str, object]:
    """Read the labelled header at the top of a case report into metadata.

    The header is the run of ``Key: value`` lines before the first blank line (Title, Authors,
    Affiliation, Journal, Published, DOI; see ``sample_reports/``). Nothing is cut out of the
    text. Authors become a list; a DOI loses any ``https://doi.org/`` or ``doi:`` prefix. A text
    without such a header gives an empty dict.
    """
    meta: dict[str, object] = {}
    for line in text.split("\n", 40)[:40]:
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        key = _HEADER_KEYS.get(match.group(1).strip().lower()) if match else None
        if key is None:
            break
        value = match.group(2) if match else ""
        if not value:
            continue
        if key == "authors":
            meta[key] = [a.strip() for a in re.split(r",|;| and ", value) if a.strip()]
        elif key == "doi":
            meta[key] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", value, flags=re.I)
        else:
            meta[key] = value
    return meta


# --- offsets and words ------------------------------------------------------------------------


def line_starts(text: str) -> list[int]:
    """The offset at which each line starts (lines split on ``\\n`` only, as stored text has)."""
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def offset_to_location(starts: list[int], offset: int) -> tuple[int, int]:
    """(row, column) in code points of ``offset``, given :func:`line_starts` of the text."""
    row = bisect.bisect_right(starts, offset) - 1
    return row, offset - starts[row]


def location_to_offset(starts: list[int], location: tuple[int, int]) -> int:
    """The offset of ``(row, column)``, the inverse of :func:`offset_to_location`."""
    row, column = location
    return starts[row] + column


def find_all(text: str, phrase: str) -> list[int]:
    """Starts of ``phrase`` in ``text``, ignoring case, not overlapping. A regular expression
    compares character by character, so a match is as long as ``phrase`` and its offsets are
    the text's own (lower-casing the text would change lengths: ß, ligatures, İ)."""
    return [m.start() for m in re.finditer(re.escape(phrase), text, re.IGNORECASE)]


def context(text: str, start: int, end: int, width: int = 40) -> tuple[str, str]:
    """Up to ``width`` characters either side of a span, newlines shown as spaces."""
    left = text[max(0, start - width) : start].replace("\n", " ")
    right = text[end : end + width].replace("\n", " ")
    return left, right


# --- UTF-16 code units (browser tools) ---------------------------------------------------------


def utf16_offsets(text: str) -> list[int] | None:
    """For each code-point offset of ``text`` (0..len), its offset in UTF-16 code units; None
    when the text has no astral character and the two are the same."""
    if text.isascii() or all(ord(c) <= 0xFFFF for c in text):
        return None
    out = [0]
    for char in text:
        out.append(out[-1] + (2 if ord(char) > 0xFFFF else 1))
    return out


def from_utf16(table: list[int] | None, offset: int) -> int:
    """The code-point offset of a UTF-16 ``offset`` (one inside a surrogate pair maps past
    the whole character, so validation reports a span cut in half)."""
    if table is None:
        return offset
    return bisect.bisect_left(table, offset)


def to_utf16(table: list[int] | None, offset: int) -> int:
    """The UTF-16 offset of a code-point ``offset``."""
    if table is None or offset >= len(table):
        return offset if table is None else table[-1] + offset - (len(table) - 1)
    return table[offset]
