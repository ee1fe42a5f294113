"""Decoding, normalisation with remapped offsets, the case-report header, and line arithmetic."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewer.core.model import ReviewerError
from reviewer.core.text import (
    DecodeError,
    decode,
    is_normalised,
    line_starts,
    location_to_offset,
    normalise,
    offset_to_location,
    parse_header,
    read_text_file,
)

SAMPLE_REPORTS = Path(__file__).resolve().parents[2] / "sample_reports"

# Every character str.splitlines (and so Textual's Document) treats as a line break.
LINE_BREAKS = frozenset(
    chr(code) for code in range(sys.maxunicode + 1) if len(f"a{chr(code)}b".splitlines()) == 2
)


def test_line_break_set_is_what_the_issue_lists() -> None:
    # Sanity check of the helper the other tests rely on.
    assert frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029") == LINE_BREAKS


# --- decode -----------------------------------------------------------------------------------


def test_decode_plain_utf8() -> None:
    assert decode("µg ≥ 5 → é 💊".encode()) == "µg ≥ 5 → é 💊"


def test_decode_drops_a_utf8_bom() -> None:
    assert decode(b"\xef\xbb\xbfTitle: x\n") == "Title: x\n"


def test_decode_keeps_line_endings() -> None:
    assert decode(b"a\r\nb\rc\n") == "a\r\nb\rc\n"


def test_invalid_utf8_names_the_file_and_byte_offset() -> None:
    data = b"Title: ok\ncaf\xe9 au lait\n"
    with pytest.raises(DecodeError) as info:
        decode(data, source="reports/case.txt")
    message = str(info.value)
    assert message.startswith("reports/case.txt:")
    assert "byte 13" in message
    assert "UTF-8" in message
    assert "--encoding" in message  # tells the user what to do
    assert isinstance(info.value, ReviewerError)


def test_invalid_utf8_at_the_start_is_byte_0() -> None:
    with pytest.raises(DecodeError, match="byte 0"):
        decode(b"\xffabc", source="f.txt")


def test_truncated_utf8_sequence_at_the_end() -> None:
    with pytest.raises(DecodeError, match="byte 3"):
        decode(b"abc\xe2\x82", source="f.txt")


def test_invalid_utf8_after_a_bom_counts_bytes_from_the_start_of_the_file() -> None:
    # The BOM is 3 bytes of the file: the bad byte 0xff is at byte 5 of what the user has.
    data = b"\xef\xbb\xbfab\xffc"
    assert data[5:6] == b"\xff"
    with pytest.raises(DecodeError) as info:
        decode(data, source="f.txt")
    message = str(info.value)
    assert "byte 5" in message
    assert "\\xff" in message


def test_decode_latin1() -> None:
    assert decode(b"caf\xe9 \xb5g", encoding="latin-1") == "café µg"


def test_decode_utf16_with_bom() -> None:
    data = "Titre: café 💊\r\n".encode("utf-16")  # starts with a BOM
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert decode(data, encoding="utf-16") == "Titre: café 💊\r\n"


def test_decode_utf16_truncated_names_file() -> None:
    with pytest.raises(DecodeError) as info:
        decode("ab".encode("utf-16-le") + b"c", encoding="utf-16-le", source="x.txt")
    assert str(info.value).startswith("x.txt:")
    assert "byte 4" in str(info.value)


def test_decode_unknown_encoding_is_an_error() -> None:
    with pytest.raises(DecodeError) as info:
        decode(b"abc", encoding="no-such-codec", source="x.txt")
    assert "x.txt" in str(info.value)
    assert "no-such-codec" in str(info.value)


def test_read_text_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok \xc3(")
    with pytest.raises(DecodeError) as info:
        read_text_file(path)
    assert str(path) in str(info.value)
    assert "byte 3" in str(info.value)
    assert read_text_file(path, encoding="latin-1") == "ok Ã("


# --- normalise --------------------------------------------------------------------------------


def test_plain_text_is_unchanged() -> None:
    raw = "Aspirin 100 mg\n\tdaily → rash ≥ 2 cm, café, 💊\n"
    norm = normalise(raw)
    assert norm.text == raw
    assert norm.removed == ()
    assert not norm.changed_length
    assert is_normalised(raw)


def test_crlf_becomes_lf() -> None:
    norm = normalise("one\r\ntwo\r\nthree")
    assert norm.text == "one\ntwo\nthree"
    assert norm.removed == (3, 8)
    assert norm.original_length == len("one\r\ntwo\r\nthree")
    assert norm.changed_length


def test_lone_cr_becomes_lf_without_moving_offsets() -> None:
    norm = normalise("one\rtwo\rthree")
    assert norm.text == "one\ntwo\nthree"
    assert norm.map_offset(4) == 4
    assert norm.map_offset(13) == 13


def test_cr_cr_lf_is_two_line_breaks() -> None:
    norm = normalise("a\r\r\nb")
    assert norm.text == "a\n\nb"
    assert norm.text[norm.map_offset(4) :] == "b"


def test_bom_and_crlf() -> None:
    raw = "\ufeffTitle: x\r\nBody\r\n"
    norm = normalise(raw)
    assert norm.text == "Title: x\nBody\n"
    # "Body" starts at 11 in the original (BOM + "Title: x" + CRLF).
    assert raw[11:15] == "Body"
    assert norm.text[norm.map_offset(11) : norm.map_offset(15)] == "Body"


def test_bom_in_the_middle_is_not_removed() -> None:
    norm = normalise("a\ufeffb")
    assert norm.text == "a\ufeffb"
    assert norm.removed == ()


@pytest.mark.parametrize("char", ["\v", "\f", "\x85", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e"])
def test_other_line_breaks_are_replaced_one_for_one(char: str) -> None:
    raw = f"fever{char}rash"
    norm = normalise(raw)
    assert len(norm.text) == len(raw)
    assert norm.text.startswith("fever") and norm.text.endswith("rash")
    stand_in = norm.text[5]
    assert stand_in != char
    assert stand_in not in LINE_BREAKS
    assert stand_in.isprintable()
    assert norm.text.splitlines() == [norm.text]
    assert norm.map_offset(6) == 6


def test_escape_is_made_visible_so_ansi_sequences_are_inert() -> None:
    raw = "before \x1b[31mred\x1b[0m after"
    norm = normalise(raw)
    assert "\x1b" not in norm.text
    assert norm.text == "before ␛[31mred␛[0m after"  # U+241B, from the Control Pictures block


@pytest.mark.parametrize("code", [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)])
def test_every_c0_control_except_tab_and_newline_gets_a_visible_stand_in(code: int) -> None:
    raw = f"a{chr(code)}b"
    norm = normalise(raw)
    assert len(norm.text) == 3
    assert norm.text[0] == "a" and norm.text[2] == "b"
    stand_in = norm.text[1]
    assert stand_in == chr(0x2400 + code)
    assert stand_in.isprintable()
    assert unicodedata.category(stand_in) == "So"


def test_del_and_c1_controls_are_replaced_one_for_one() -> None:
    raw = "a\x7fb\x9bc\x80d"
    norm = normalise(raw)
    assert len(norm.text) == len(raw)
    assert all(ch.isprintable() for ch in norm.text)


def test_stand_ins_are_distinct_for_different_controls() -> None:
    raw = "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
    norm = normalise(raw)
    assert len(set(norm.text)) == len(raw)


def test_tab_and_newline_are_kept() -> None:
    raw = "a\tb\nc"
    assert normalise(raw).text == raw


@pytest.mark.parametrize(
    "raw",
    [
        "rash 💊 after 🧪 test",  # astral characters
        "cafe\u0301 and e\u0301\u0301",  # combining marks, not composed
        "\U0001f468\u200d\u2695\ufe0f doctor",  # ZWJ sequence with a variation selector
        "µg ≥ → é ñ ü",
    ],
)
def test_astral_characters_and_combining_marks_are_untouched(raw: str) -> None:
    norm = normalise(raw)
    assert norm.text == raw
    assert norm.map_offset(len(raw)) == len(raw)


def test_combining_marks_survive_next_to_crlf() -> None:
    raw = "cafe\u0301\r\n💊"
    norm = normalise(raw)
    assert norm.text == "cafe\u0301\n💊"
    assert raw[7:8] == "💊"
    assert norm.text[norm.map_offset(7) : norm.map_offset(8)] == "💊"
    assert norm.text[norm.map_offset(0) : norm.map_offset(5, end=True)] == "cafe\u0301"


def test_normalise_is_idempotent() -> None:
    raw = "\ufeffa\r\nb\rc\x1b\u2028d"
    once = normalise(raw).text
    assert normalise(once).text == once
    assert is_normalised(once)
    assert not is_normalised(raw)


# --- map_offset -------------------------------------------------------------------------------


def crlf_to_lf(text: str) -> str:
    return text.replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("raw", "start", "end"),
    [
        ("aspirin\r\nrash\r\nfever", 9, 13),  # after one CRLF
        ("aspirin\r\nrash\r\nfever", 15, 20),  # after two
        ("aspirin\r\nrash\r\nfever", 0, 20),  # across both
        ("aspirin\r\nrash\r\nfever", 7, 9),  # exactly one CRLF
        ("aspirin\r\nrash\r\nfever", 5, 11),  # across a CRLF
        ("\ufeffaspirin\r\nrash", 1, 8),  # after a BOM
        ("\ufeffaspirin\r\nrash", 10, 14),  # after a BOM and a CRLF
        ("💊 rash\r\né fever", 9, 16),  # astral characters count as one
    ],
)
def test_map_offset_keeps_every_span_text(raw: str, start: int, end: int) -> None:
    norm = normalise(raw)
    expected = crlf_to_lf(raw[start:end]).removeprefix("\ufeff")
    assert norm.text[norm.map_offset(start) : norm.map_offset(end, end=True)] == expected


def test_map_offset_of_the_end_of_the_text() -> None:
    raw = "\ufeffa\r\nb\r\n"
    norm = normalise(raw)
    assert norm.map_offset(len(raw)) == len(norm.text)


def test_map_offset_past_the_end_stays_past_the_end() -> None:
    norm = normalise("a\r\nb")
    assert norm.map_offset(10) > len(norm.text)


def test_span_ending_between_cr_and_lf_keeps_its_line_break() -> None:
    # A span "rash\r" (brat and other tools may cut a CRLF in half): its CR became the LF.
    raw = "rash\r\nfever"
    norm = normalise(raw)
    assert norm.text[norm.map_offset(0) : norm.map_offset(5, end=True)] == "rash\n"
    # The CR alone is a one-character span; it must not map to an empty one.
    assert norm.text[norm.map_offset(4) : norm.map_offset(5, end=True)] == "\n"


# --- property tests ---------------------------------------------------------------------------

TOKENS = ["\r\n", "\r", "\n", "\u2028", "\x0b", "é", "e\u0301", "💊", "a", " "]


@st.composite
def texts_with_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    bom = draw(st.booleans())
    body = "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=40)))
    raw = ("\ufeff" if bom else "") + body
    pairs = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(raw) - 1),
                st.integers(1, len(raw)),
            ),
            min_size=1,
            max_size=10,
        )
    )
    spans = [(min(a, b), max(a, b)) for a, b in pairs if min(a, b) < max(a, b)]
    if not spans:
        spans = [(0, len(raw))]
    return raw, spans


def stand_in(char: str) -> str:
    """The one character ``char`` becomes when normalised on its own."""
    out = normalise(f"x{char}x").text
    assert len(out) == 3, (char, out)
    return out[1]


def expected_slice(raw: str, start: int, end: int) -> str:
    """The original slice with the documented normalisation applied to it alone."""
    piece = raw[start:end]
    if start == 0:
        piece = piece.removeprefix("\ufeff")  # only a leading BOM is dropped
    piece = piece.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch in "\n\t" else stand_in(ch) for ch in piece)


@settings(max_examples=300, deadline=None)
@given(texts_with_spans())
@example(("a\r\nb", [(0, 2)]))  # a span ending between CR and LF
@example(("a\r\nb", [(1, 2)]))  # a span of the CR alone
@example(("\ufeff\r\n", [(0, 1), (0, 2), (1, 3)]))
def test_property_every_span_text_survives_normalisation(
    case: tuple[str, list[tuple[int, int]]],
) -> None:
    raw, spans = case
    norm = normalise(raw)
    text = norm.text
    assert "\r" not in text
    assert not (set(text) & LINE_BREAKS) - {"\n"}
    removed = (1 if raw.startswith("\ufeff") else 0) + raw.count("\r\n")
    assert len(text) == len(raw) - removed
    assert norm.original_length == len(raw)
    for start, end in spans:
        expected = expected_slice(raw, start, end)
        got = text[norm.map_offset(start) : norm.map_offset(end, end=True)]
        assert got == expected, (raw, start, end)
        assert len(got) == len(expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "💊", " ", "\n", "\t", "e\u0301"]), max_size=60))
def test_property_offset_and_location_are_inverse(pieces: list[str]) -> None:
    text = "".join(pieces)
    starts = line_starts(text)
    for offset in range(len(text) + 1):
        row, column = offset_to_location(starts, offset)
        assert location_to_offset(starts, (row, column)) == offset
        assert row == text.count("\n", 0, offset)
        assert column == offset - (text.rfind("\n", 0, offset) + 1)


# --- the case-report header -------------------------------------------------------------------


def test_parse_header_of_a_sample_report() -> None:
    text = (SAMPLE_REPORTS / "case01.txt").read_text(encoding="utf-8")
    meta = parse_header(normalise(text).text)
    assert meta == {
        "title": "Facial erythema after dupilumab in a patient with systemic lupus erythematosus",
        "authors": ["Ana Marlowe", "Joseph K. Okafor", "Léa Brenner"],
        "affiliation": (
            "Department of Dermatology, Northgate University Hospital, Leeds, United Kingdom"
        ),
        "journal": "Journal of Pharmacovigilance Case Reports",
        "published": "2025-03-14",
        "doi": "10.5555/jpcr.2025.0142",
    }


@pytest.mark.parametrize("path", sorted(SAMPLE_REPORTS.glob("*.txt")), ids=lambda p: p.name)
def test_every_sample_report_has_a_full_header(path: Path) -> None:
    meta = parse_header(path.read_text(encoding="utf-8"))
    assert set(meta) == {"title", "authors", "affiliation", "journal", "published", "doi"}
    assert str(meta["doi"]).startswith("10.5555/")
    assert meta["authors"]


def test_parse_header_without_a_header() -> None:
    assert parse_header("Background\nA 34-year-old woman: presented with rash.\n") == {}
    assert parse_header("") == {}
    assert parse_header("A 70-year-old man was admitted.\nTitle: not a header\n") == {}


def test_parse_header_stops_at_the_first_blank_line() -> None:
    meta = parse_header("Title: A case\n\nJournal: not header, body text\n")
    assert meta == {"title": "A case"}


def test_parse_header_stops_at_an_unknown_key() -> None:
    meta = parse_header("Title: A case\nSummary: body\nJournal: J\n")
    assert meta == {"title": "A case"}


def test_parse_header_doi_prefixes_and_author_separators() -> None:
    meta = parse_header(
        "Title: Rash: a case\nAuthors: A. One; B. Two and C. Three\n"
        "DOI: https://doi.org/10.5555/abc.1\n\nBody"
    )
    assert meta["title"] == "Rash: a case"
    assert meta["authors"] == ["A. One", "B. Two", "C. Three"]
    assert meta["doi"] == "10.5555/abc.1"
    assert parse_header("DOI: doi:10.5555/x\n")["doi"] == "10.5555/x"


def test_parse_header_does_not_cut_the_text() -> None:
    text = "Title: A case\n\nBody"
    parse_header(text)
    assert text == "Title: A case\n\nBody"


# --- lines and locations ----------------------------------------------------------------------


def test_line_starts() -> None:
    assert line_starts("") == [0]
    assert line_starts("abc") == [0]
    assert line_starts("ab\ncd\n") == [0, 3, 6]
    assert line_starts("\n\n") == [0, 1, 2]


def test_line_starts_split_on_newline_only() -> None:
    # Stored text has no other line breaks; a stand-in is an ordinary character.
    assert line_starts("a␤b\tc") == [0]


def test_offset_to_location_examples() -> None:
    text = "💊 rash\ncafé\n\nend"
    starts = line_starts(text)
    assert offset_to_location(starts, 0) == (0, 0)
    assert offset_to_location(starts, 6) == (0, 6)  # the newline belongs to line 0
    assert offset_to_location(starts, 7) == (1, 0)
    assert offset_to_location(starts, 10) == (1, 3)  # é is one column
    assert offset_to_location(starts, 12) == (2, 0)  # the empty line
    assert offset_to_location(starts, 13) == (3, 0)
    assert offset_to_location(starts, len(text)) == (3, 3)
    assert location_to_offset(starts, (1, 3)) == 10
    assert location_to_offset(starts, (3, 3)) == len(text)


def test_location_round_trip_on_a_sample_report() -> None:
    text = normalise((SAMPLE_REPORTS / "case13.txt").read_text(encoding="utf-8")).text
    starts = line_starts(text)
    for offset in range(len(text) + 1):
        assert location_to_offset(starts, offset_to_location(starts, offset)) == offset
