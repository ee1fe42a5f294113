"""Prodigy and doccano in and out, JSONL flavour detection, and the hand-made edge cases
round-tripped through every format that can hold them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.core.exporter import export, export_brat
from reviewer.core.importer import import_paths
from reviewer.core.model import ReviewerError
from reviewer.core.store import Store

# The worked example of ../shared/FORMATS.md.
TEXT = (
    "A 27-year-old woman developed facial erythema after dupilumab. "
    "ANA was 1:80 and she was diagnosed with SLE."
)
SPANS = [(30, 45, "EVENT"), (52, 61, "DRUG"), (63, 66, "TEST"), (103, 106, "DIAGNOSIS")]


def write(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def spans_of(store: Store) -> list[tuple]:
    return sorted((s.report_id, s.start, s.end, s.label, s.text, s.reviewer) for s in store.spans())


def test_the_worked_example_offsets() -> None:
    assert [TEXT[s:e] for s, e, _ in SPANS] == ["facial erythema", "dupilumab", "ANA", "SLE"]


# --- Prodigy --------------------------------------------------------------------------------


def prodigy_task(answer: str = "accept", annotator: str = "news-alice") -> dict:
    return {
        "text": TEXT,
        "meta": {"id": "case", "source": "PMID 1"},
        "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in SPANS],
        "answer": answer,
        "_annotator_id": annotator,
        "_session_id": "news-alice",
    }


def test_prodigy_accepts_are_annotation_other_answers_are_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "db-out.jsonl",
        prodigy_task(),
        prodigy_task("reject", "news-bob"),
        prodigy_task("ignore", "news-carl"),
    )
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [path], reviewer="me")
        assert summary.formats == {"prodigy": 1}  # told apart from reviewer's JSONL by its keys
        assert summary.kept[("task", "not imported (reject)")] == 1
        assert summary.kept[("task", "not imported (ignore)")] == 1
        assert spans_of(store) == [
            ("case", s, e, lab.lower(), TEXT[s:e], "news-alice") for s, e, lab in sorted(SPANS)
        ]


def test_prodigy_spans_given_by_tokens_only_are_placed_by_them(tmp_path: Path) -> None:
    task = prodigy_task()
    words = TEXT.split(" ")
    tokens, pos = [], 0
    for i, word in enumerate(words):
        tokens.append({"text": word, "start": pos, "end": pos + len(word), "id": i})
        pos += len(word) + 1
    task["tokens"] = tokens
    task["spans"] = [{"token_start": 4, "token_end": 5, "label": "EVENT"}]  # end inclusive
    path = write(tmp_path / "tasks.jsonl", task)
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="me")
        assert [s.text for s in store.spans()] == ["facial erythema"]


def test_prodigy_export_has_exact_token_indices(tmp_path: Path) -> None:
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [write(tmp_path / "in.jsonl", prodigy_task())], reviewer="me")
        out = tmp_path / "out.jsonl"
        export(store, "prodigy", out)
    (task,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert task["answer"] == "accept" and task["_annotator_id"] == "news-alice"
    tokens = task["tokens"]
    erythema = next(s for s in task["spans"] if s["label"] == "event")
    # Our tokenizer splits 27-year-old into five tokens, as spaCy does (FORMATS.md).
    assert (erythema["token_start"], erythema["token_end"]) == (8, 9)
    for span in task["spans"]:
        first, last = tokens[span["token_start"]], tokens[span["token_end"]]
        assert (first["start"], last["end"]) == (span["start"], span["end"])
    assert all(TEXT[t["start"] : t["end"]] == t["text"] for t in tokens)


# --- doccano --------------------------------------------------------------------------------


def test_doccano_label_form_with_aliases_overlaps_and_meta(tmp_path: Path) -> None:
    path = write(
        tmp_path / "all.jsonl",
        {
            "id": 7,
            "text": TEXT,
            "label": [[30, 45, "EVENT"], [37, 45, "EVENT"]],
            "Comments": [],
            "country": "FR",
        },
        {
            "id": 8,
            "data": "dupilumab again",
            "labels": [{"start_offset": 0, "end_offset": 9, "label": "DRUG"}],
        },
    )
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [path], reviewer="ann")
        assert summary.formats == {"doccano": 1}
        assert [s.text for s in store.spans("7")] == ["facial erythema", "erythema"]  # overlap kept
        assert [s.text for s in store.spans("8")] == ["dupilumab"]
        assert store.report("7").meta == {"Comments": [], "country": "FR"}


def test_doccano_entities_and_relations_round_trip(tmp_path: Path) -> None:
    record = {
        "id": 1,
        "text": TEXT,
        "entities": [
            {"id": 11, "label": "EVENT", "start_offset": 30, "end_offset": 45},
            {"id": 12, "label": "DRUG", "start_offset": 52, "end_offset": 61},
        ],
        "relations": [{"id": 5, "from_id": 11, "to_id": 12, "type": "CAUSED_BY"}],
    }
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [write(tmp_path / "in.jsonl", record)], reviewer="ann")
        (relation,) = store.relations("1")
        assert relation["type"] == "CAUSED_BY"
        out = tmp_path / "out.jsonl"
        export(store, "doccano", out)
    (back,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {e["id"]: e for e in back["entities"]}
    (rel,) = back["relations"]
    assert (by_id[rel["from_id"]]["label"], by_id[rel["to_id"]]["label"]) == ("event", "drug")
    assert TEXT[by_id[rel["from_id"]]["start_offset"] : by_id[rel["from_id"]]["end_offset"]] == (
        "facial erythema"
    )


def test_doccano_utf16_offsets_after_an_emoji(tmp_path: Path) -> None:
    text = "Patient 💊 then dupilumab."
    cp = text.index("dupilumab")
    u16 = len(text[:cp].encode("utf-16-le")) // 2
    assert (cp, u16) == (15, 16)
    path = write(
        tmp_path / "browser.jsonl", {"id": 1, "text": text, "label": [[u16, u16 + 9, "DRUG"]]}
    )
    with Store(tmp_path / "wrong.db") as store:  # read as code points: one character off
        import_paths(store, [path], reviewer="ann")
        assert [s.text for s in store.spans()] == ["upilumab."]
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="ann", offsets="utf16")
        assert [s.text for s in store.spans()] == ["dupilumab"]
        out = tmp_path / "out.jsonl"
        export(store, "doccano", out, offsets="utf16")
        assert json.loads(out.read_text(encoding="utf-8"))["label"] == [[u16, u16 + 9, "drug"]]
        export(store, "doccano", out)
        assert json.loads(out.read_text(encoding="utf-8"))["label"] == [[cp, cp + 9, "drug"]]


# --- every format, the hand-made edge cases ---------------------------------------------------

EDGE_TEXT = "\ufeffFever\r\nafter 💊 cafe\u0301 and\n\u200bdupilumab\u200b.\r\n"


def edge_source(tmp_path: Path) -> Path:
    """A JSONL with CRLF, a BOM, an emoji, a combining mark, a span across a line break and
    zero-width spaces at span edges; offsets are into the raw text, as the file states."""
    phrases = [
        ("Fever", "event"),
        ("cafe\u0301", "test"),
        ("\u200bdupilumab\u200b", "drug"),
        ("and\n\u200bdupilumab", "event"),
    ]
    spans = []
    for phrase, label in phrases:
        start = EDGE_TEXT.index(phrase)
        spans.append({"start": start, "end": start + len(phrase), "label": label})
    return write(tmp_path / "edge.jsonl", {"id": "edge", "text": EDGE_TEXT, "spans": spans})


@pytest.mark.parametrize("fmt", ["jsonl", "prodigy", "doccano", "doccano-utf16", "brat"])
def test_edge_cases_round_trip_through_every_format(tmp_path: Path, fmt: str) -> None:
    with Store(tmp_path / "a.db") as store:
        import_paths(store, [edge_source(tmp_path)], reviewer="al")
        stored_text = store.report("edge").text
        assert stored_text == "Fever\nafter 💊 cafe\u0301 and\n\u200bdupilumab\u200b.\n"
        before = spans_of(store)
        assert [t for *_, t, _ in before] == [
            "Fever",
            "cafe\u0301",
            "and\n\u200bdupilumab",
            "\u200bdupilumab\u200b",
        ]
        out = tmp_path / "out"
        offsets = "utf16" if fmt.endswith("utf16") else "codepoints"
        if fmt == "brat":
            export_brat(store, out)
        else:
            out = tmp_path / "out.jsonl"
            export(store, fmt.split("-")[0], out, offsets=offsets)
    with Store(tmp_path / "b.db") as again:
        import_paths(again, [out], reviewer="al", offsets=offsets)
        assert again.report("edge").text == stored_text
        after = spans_of(again)
    if fmt in ("prodigy", "doccano", "doccano-utf16"):
        after = [(*a[:5], "al") for a in after]
        before = [(*b[:5], "al") for b in before]
    if fmt == "brat":  # brat cannot cross a line break: that span comes back as fragments
        crossing = next(b for b in before if "\n" in b[4])
        as_fragments = (*crossing[:4], crossing[4].replace("\n", " "), crossing[5])
        assert after == sorted([b for b in before if b != crossing] + [as_fragments])
    else:
        assert after == before


# --- CoNLL ------------------------------------------------------------------------------------


def test_conll_bio_tags_whole_tokens_and_reports_overlaps(tmp_path: Path) -> None:
    text = "Mid-dose dupilumab caused erythema. ANA was high.\nSLE followed."
    spans = [
        {"start": 4, "end": 18, "label": "drug"},  # "dose dupilumab": starts inside "Mid-dose"
        {"start": 9, "end": 18, "label": "drug"},  # nested: overlaps, reported
        {"start": 26, "end": 34, "label": "event"},
        {"start": 36, "end": 39, "label": "test"},
        {"start": 50, "end": 53, "label": "diagnosis"},
    ]
    path = write(tmp_path / "in.jsonl", {"id": "r", "text": text, "spans": spans})
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="al")
        out, notes = tmp_path / "out.conll", []
        export(store, "conll", out, notes=notes)
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[:2] == ["-DOCSTART- -X- O O", ""]
    rows = [line.split(" ") for line in lines[2:] if line]
    assert rows[:5] == [
        ["Mid", "O"],
        ["-", "O"],
        ["dose", "B-drug"],
        ["dupilumab", "I-drug"],
        ["caused", "O"],
    ]
    assert ["erythema", "B-event"] in rows and ["ANA", "B-test"] in rows
    assert ["SLE", "B-diagnosis"] in rows
    assert len(notes) == 1 and "r 9-18 drug 'dupilumab' overlaps" in notes[0]
    sentences = [block for block in "\n".join(lines[2:]).split("\n\n") if block.strip()]
    assert sentences[0].splitlines()[-1] == ". O" and len(sentences) == 3


def test_an_explicit_map_is_exact_and_a_bom_does_not_hide_prodigy(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(prodigy_task()).encode() + b"\n")
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [path], reviewer="me", label_map={"DRUG": "DRUG"})
        assert summary.formats == {"prodigy": 1}
        assert sorted({s.label for s in store.spans()}) == ["DRUG", "diagnosis", "event", "test"]


def test_reviewer_names_from_files_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", prodigy_task(annotator="bad\nname"))
    with Store(tmp_path / "reviewer.db") as store, pytest.raises(ReviewerError, match="control"):
        import_paths(store, [path], reviewer="me")


def test_prodigy_export_has_a_task_for_a_report_without_spans(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", {"id": "r", "text": "Nothing to tag."})
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="me")
        out = tmp_path / "out.jsonl"
        export(store, "prodigy", out)
    (task,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (task["meta"]["id"], task["spans"], task["answer"]) == ("r", [], "accept")


def test_conll_tags_have_no_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.jsonl",
        {
            "id": "r",
            "text": "Severe rash.",
            "spans": [{"start": 0, "end": 11, "label": "Adverse event"}],
        },
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="me", label_map={"Adverse event": "Adverse event"})
        out = tmp_path / "out.conll"
        export(store, "conll", out)
    rows = [line.split(" ") for line in out.read_text().splitlines()[2:] if line]
    assert rows[:2] == [["Severe", "B-Adverse_event"], ["rash", "I-Adverse_event"]]
