"""The JSONL export is written by SQLite (``Store.reports_with_span_json``), not from dicts.

Each test builds the line a reader expects from the stored objects, with orjson and
``Span.to_dict()``, and holds the export to it byte for byte: odd characters in every field,
attributes of every JSON type, discontinuous spans with normalisations, filters, and a real
brat corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.core.exporter import export
from reviewer.core.importer import import_paths
from reviewer.core.model import Report, Span, Status
from reviewer.core.store import Store

PHEE = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "phee" / "data" / "clean"

TEXT = 'Tab\there, "quotes", back\\slash, é µg ≥ → 😀, and a\nsecond line with aspirin.'


def expected(store: Store, label: str | None = None, reviewer: str | None = None) -> bytes:
    """The export as a reader expects it, from the stored objects."""
    out = []
    for report in store.reports():
        spans = store.spans(report.id, reviewer=reviewer, label=label)
        spans.sort(key=lambda s: (s.start, s.end, s.label, s.reviewer, s.id))
        obj = {
            "id": report.id,
            "text": report.text,
            "meta": report.export_meta(),
            "spans": [s.to_dict() for s in spans],
        }
        out.append(orjson.dumps(obj) + b"\n")
    return b"".join(out)


def add_report(store: Store, report_id: str, text: str) -> None:
    with store.write():
        store.insert_reports([Report(id=report_id, text=text)])


def exported(store: Store, path: Path, **filters: str) -> bytes:
    export(store, "jsonl", path, **filters)
    return path.read_bytes()


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "reviewer.db") as s:
        yield s


def test_every_field_with_odd_characters_is_written_as_the_dicts_would_be(
    store: Store, tmp_path: Path
) -> None:
    record = {
        "id": 'r "1" \\ é',
        "text": TEXT,
        "meta": {
            "title": 'A "title" é',
            "authors": ["Ana Ñ", 'B "Q"'],
            "doi": "10.5555/x",
            "extra": {"nested": [1, 2.5, None, True, "→"]},
        },
        "spans": [
            {
                "start": 0,
                "end": 3,
                "label": "drug",
                "attributes": {"negated": True, "score": 0.25, "by": 'ß\t"x"', "n": -3},
                "note": 'a "note"\twith tab\nand newline \\ 😀',
            },
            {"start": 0, "end": 3, "label": "event", "reviewer": "bob"},
            {"start": 67, "end": 74, "label": "drug"},
        ],
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    import_paths(store, [path], reviewer="alice")
    out = exported(store, tmp_path / "out.jsonl")
    assert out == expected(store)
    line = json.loads(out)
    assert line["spans"][0]["attributes"] == {
        "by": 'ß\t"x"',
        "n": -3,
        "negated": True,
        "score": 0.25,
    }
    assert line["spans"][0]["note"] == 'a "note"\twith tab\nand newline \\ 😀'
    assert [s["text"] for s in line["spans"]] == ["Tab", "Tab", "aspirin"]


def test_floats_in_attributes_read_back_as_the_same_numbers(store: Store, tmp_path: Path) -> None:
    """SQLite keeps a number as stored ("1e+100", Python's spelling); orjson would write 1e100.
    Either reads back as the same value."""
    floats = {"a": 1e100, "b": 0.1, "c": -2.5e-7, "d": 1.0}
    add_report(store, "r", TEXT)
    store.add_span(Span("r", 67, 74, "drug", "aspirin", "alice", attributes=floats))
    line = json.loads(exported(store, tmp_path / "out.jsonl"))
    assert line["spans"][0]["attributes"] == floats


def test_discontinuous_spans_keep_their_fragments_and_refs(store: Store, tmp_path: Path) -> None:
    text = "Severe skin rash and mild skin itching."
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    (tmp_path / "d.ann").write_text(
        "T1\tevent 0 6;12 16\tSevere rash\n"
        "T2\tevent 21 25;26 38\tmild skin itching\n"
        "N1\tReference T1 MedDRA:10037844\tRash\n"
        "T3\tevent 12 16\trash\n",
        encoding="utf-8",
    )
    import_paths(store, [tmp_path / "d.ann"], reviewer="alice")
    out = exported(store, tmp_path / "out.jsonl")
    assert out == expected(store)
    spans = json.loads(out)["spans"]
    assert spans[0]["fragments"] == [[0, 6], [12, 16]]
    assert spans[0]["refs"] == [{"type": "Reference", "ref": "MedDRA:10037844", "text": "Rash"}]
    assert "fragments" not in spans[1] and "refs" not in spans[1]


def test_filters_choose_the_same_spans_and_reports(store: Store, tmp_path: Path) -> None:
    add_report(store, "r1", TEXT)
    add_report(store, "r2", "Nothing tagged here.")
    for reviewer, label, start, end in [
        ("alice", "drug", 67, 74),
        ("bob", "drug", 67, 74),
        ("bob", "event", 0, 3),
    ]:
        store.add_span(Span("r1", start, end, label, TEXT[start:end], reviewer))
    store.set_status("r2", "bob", Status.DONE)
    assert exported(store, tmp_path / "a", label="drug") == expected(store, label="drug")
    assert exported(store, tmp_path / "b", reviewer="bob") == expected(store, reviewer="bob")
    done = exported(store, tmp_path / "c", reviewer="bob", status="done")
    assert [json.loads(line)["id"] for line in done.splitlines()] == ["r2"]


notes = st.text(st.characters(codec="utf-8"), max_size=12)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | notes,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(notes, inner, max_size=3),
    max_leaves=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(note=notes, attributes=st.dictionaries(notes, values, max_size=4), reviewer=notes)
def test_any_note_attributes_and_reviewer_are_written_as_the_dicts_would_be(
    tmp_path: Path, note: str, attributes: dict, reviewer: str
) -> None:
    with Store(tmp_path / "h.db") as store:
        if store.get_report("r") is None:
            add_report(store, "r", TEXT)
        for span in store.spans("r"):
            store.delete_span(span.id, span.reviewer)
        store.add_span(
            Span(
                "r",
                67,
                74,
                "drug",
                "aspirin",
                reviewer.strip() or "alice",
                attributes=attributes,
                note=note,
            )
        )
        assert exported(store, tmp_path / "h.jsonl") == expected(store)


@pytest.mark.skipif(not PHEE.is_dir(), reason=f"{PHEE} is absent (the shared corpora are not here)")
def test_a_real_brat_corpus_is_written_as_the_dicts_would_be(tmp_path: Path) -> None:
    with Store(tmp_path / "phee.db") as store:
        import_paths(store, [PHEE / "dev"], reviewer="phee")
        assert store.report_count() > 100
        assert exported(store, tmp_path / "phee.jsonl") == expected(store)
