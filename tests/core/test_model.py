"""The data model: span validation and what a report says about itself."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from reviewer.core.model import (
    Report,
    ReviewerError,
    Span,
    ValidationError,
    validate_span,
)
from reviewer.core.schema import default_schema

TEXT = "Aspirin caused a rash. 💊 café"
LABELS = default_schema()


def make_span(start: int, end: int, label: str = "drug", text: str | None = None, **kw) -> Span:
    covered = TEXT[start:end] if text is None else text
    return Span(
        report_id="r1",
        start=start,
        end=end,
        label=label,
        text=covered,
        reviewer=kw.pop("reviewer", "alice"),
        **kw,
    )


# --- span validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (0, 7, "drug"),  # first character
        (15, 21, "event"),  # in the middle
        (23, 24, "drug"),  # one astral code point (the emoji)
        (len(TEXT) - 4, len(TEXT), "test"),  # up to the very end (end is exclusive)
        (0, len(TEXT), "diagnosis"),  # the whole text
    ],
)
def test_valid_spans_pass(start: int, end: int, label: str) -> None:
    span = make_span(start, end, label)
    validate_span(span, TEXT, LABELS)  # does not raise
    assert TEXT[span.start : span.end] == span.text


def test_offsets_are_code_points_so_an_emoji_is_one_character() -> None:
    span = make_span(23, 24)
    assert span.text == "💊"
    validate_span(span, TEXT, LABELS)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (-1, 3),  # negative start
        (5, 5),  # empty
        (7, 3),  # reversed
        (0, len(TEXT) + 1),  # one past the end
        (len(TEXT), len(TEXT) + 2),  # starts at the end
        (100, 120),  # far outside
    ],
)
def test_offsets_outside_the_text_or_empty_are_rejected(start: int, end: int) -> None:
    span = make_span(start, end, text="x")
    with pytest.raises(ValidationError) as info:
        validate_span(span, TEXT, LABELS)
    message = str(info.value)
    assert f"{start}-{end}" in message
    assert str(len(TEXT)) in message  # says how long the text is


def test_offsets_must_be_integers() -> None:
    span = dataclasses.replace(make_span(0, 7), start=0.0)
    with pytest.raises(ValidationError, match="integer"):
        validate_span(span, TEXT, LABELS)


def test_covered_text_must_equal_the_slice() -> None:
    span = make_span(0, 7, text="Ibuprof")
    with pytest.raises(ValidationError) as info:
        validate_span(span, TEXT, LABELS)
    message = str(info.value)
    assert "'Ibuprof'" in message  # what the span says
    assert "'Aspirin'" in message  # what the text says there
    assert "0-7" in message


def test_covered_text_comparison_is_exact_not_case_folded() -> None:
    with pytest.raises(ValidationError):
        validate_span(make_span(0, 7, text="aspirin"), TEXT, LABELS)


def test_label_must_be_in_the_schema() -> None:
    span = make_span(0, 7, label="dose")
    with pytest.raises(ValidationError) as info:
        validate_span(span, TEXT, LABELS)
    message = str(info.value)
    assert "'dose'" in message
    for name in ("drug", "event", "test", "diagnosis"):
        assert name in message  # lists the labels that are allowed


def test_label_check_is_exact() -> None:
    # Case-insensitive resolution is the importer's job; a stored span carries the exact name.
    with pytest.raises(ValidationError, match="'DRUG'"):
        validate_span(make_span(0, 7, label="DRUG"), TEXT, LABELS)


def test_span_needs_a_reviewer() -> None:
    with pytest.raises(ValidationError, match="reviewer"):
        validate_span(make_span(0, 7, reviewer=""), TEXT, LABELS)


def test_validation_error_is_a_reviewer_error() -> None:
    # The CLI turns ReviewerError into one line on stderr, so validation must be one.
    assert issubclass(ValidationError, ReviewerError)


def test_span_is_frozen() -> None:
    span = make_span(0, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.start = 1  # type: ignore[misc]


def test_spans_get_distinct_ids_by_default() -> None:
    assert make_span(0, 7).id != make_span(0, 7).id


def test_span_to_dict_is_the_export_form() -> None:
    span = make_span(0, 7, attributes={"negated": True}, note="n", id="s1")
    assert span.to_dict() == {
        "id": "s1",
        "start": 0,
        "end": 7,
        "label": "drug",
        "text": "Aspirin",
        "reviewer": "alice",
        "attributes": {"negated": True},
        "note": "n",
    }


def test_span_content_ignores_id_and_times() -> None:
    a = make_span(0, 7, id="a", created_at="2024-01-01")
    b = make_span(0, 7, id="b", created_at="2025-01-01")
    assert a.content() == b.content()
    assert a.content() != make_span(0, 7, note="different").content()


# --- reports ----------------------------------------------------------------------------------


def test_report_needs_an_id() -> None:
    for bad in ("", "   "):
        with pytest.raises(ValidationError, match="id"):
            Report(id=bad, text="x")


def test_report_sha256_is_of_the_utf8_text() -> None:
    report = Report(id="r", text="café 💊")
    assert report.sha256 == hashlib.sha256("café 💊".encode()).hexdigest()


def test_display_title_is_the_title_when_there_is_one() -> None:
    report = Report(id="r", text="First line\nSecond", title="A case of rash")
    assert report.display_title == "A case of rash"


def test_display_title_falls_back_to_the_first_non_empty_line() -> None:
    report = Report(id="r", text="\n   \n  Severe rash after aspirin  \nMore text")
    assert report.display_title == "Severe rash after aspirin"


def test_display_title_shortens_a_long_first_line_to_100_characters() -> None:
    exactly = "x" * 100
    assert Report(id="r", text=exactly).display_title == exactly
    long = "y" * 150
    title = Report(id="r", text=long).display_title
    assert len(title) == 100
    assert title == "y" * 99 + "…"


def test_display_title_of_a_blank_report_is_its_id() -> None:
    assert Report(id="case-7", text="").display_title == "case-7"
    assert Report(id="case-8", text=" \n\t\n").display_title == "case-8"


def test_citation_with_every_field() -> None:
    report = Report(
        id="r",
        text="...",
        title="Facial erythema after dupilumab",
        journal="Journal of Pharmacovigilance Case Reports",
        published="2025-03-14",
        doi="10.5555/jpcr.2025.0142",
    )
    assert report.citation() == (
        "Facial erythema after dupilumab. Journal of Pharmacovigilance Case Reports. "
        "2025-03-14. doi:10.5555/jpcr.2025.0142"
    )


def test_citation_leaves_out_unknown_fields() -> None:
    report = Report(id="r", text="Untitled note\nbody", doi="10.5555/x")
    assert report.citation() == "Untitled note. doi:10.5555/x"
    assert Report(id="r", text="Just text").citation() == "Just text"


def test_export_meta_has_every_known_field() -> None:
    report = Report(
        id="r",
        text="...",
        source="sample_reports/case01.txt",
        title="T",
        journal="J",
        published="2025-03-14",
        doi="10.5555/x",
        authors=("Ana Marlowe", "Léa Brenner"),
        meta={"affiliation": "Northgate"},
    )
    assert report.export_meta() == {
        "title": "T",
        "journal": "J",
        "published": "2025-03-14",
        "doi": "10.5555/x",
        "authors": ["Ana Marlowe", "Léa Brenner"],
        "source": "sample_reports/case01.txt",
        "affiliation": "Northgate",
    }


def test_export_meta_leaves_out_empty_fields() -> None:
    assert Report(id="r", text="x").export_meta() == {}
    assert Report(id="r", text="x", journal="J").export_meta() == {"journal": "J"}


def test_export_meta_is_a_copy() -> None:
    report = Report(id="r", text="x", meta={"k": 1})
    report.export_meta()["k"] = 2
    assert report.meta == {"k": 1}
