"""brat standoff on hand-made files: each quirk of ../shared/FORMATS.md, and the edge cases a
corpus from the field brings (CRLF, BOM, emoji, combining marks, line breaks in spans...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.exporter import export_brat
from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.model import ReviewerError, Span
from reviewer.core.store import Store

TEXT = (
    "A 27-year-old woman developed facial erythema after dupilumab. "
    "ANA was 1:80 and she was diagnosed with SLE.\n"
)


def pair(folder: Path, name: str, text: str | bytes, ann: str | bytes | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / f"{name}.txt"
    txt.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    if ann is not None:
        (folder / f"{name}.ann").write_bytes(ann if isinstance(ann, bytes) else ann.encode())
    return folder


def imported(tmp_path: Path, folder: Path, **options) -> Store:
    store = Store(tmp_path / "reviewer.db")
    import_paths(store, [folder], reviewer="al", **options)
    return store


def exported_ann(store: Store, tmp_path: Path, name: str = "case") -> list[str]:
    out = tmp_path / "out"
    export_brat(store, out)
    return (out / f"{name}.ann").read_text(encoding="utf-8").splitlines()


FIXTURE = (
    "T1\tEVENT 30 45\tfacial erythema\n"
    "T2\tDRUG 52 61\tdupilumab\n"
    "R1\tCAUSED_BY Arg1:T1 Arg2:T2\n"
    "A1\tNegated T1\n"
    "A2\tSeverity T1 High\n"
    "N1\tReference T1 MedDRA:10015218\tErythema\n"
    "#1\tAnnotatorNotes T2\tbiologic, started in May\n"
)


def test_the_formats_md_fixture_maps_onto_the_model(tmp_path: Path) -> None:
    store = imported(tmp_path, pair(tmp_path / "in", "case", TEXT, FIXTURE))
    event, drug = store.spans()
    assert (event.label, event.text, event.source_id) == ("EVENT", "facial erythema", "T1")
    assert event.attributes == {"Negated": True, "Severity": "High"}
    assert event.refs == [{"type": "Reference", "ref": "MedDRA:10015218", "text": "Erythema"}]
    assert drug.note == "biologic, started in May"
    (relation,) = store.relations("case")
    assert (relation["type"], relation["arg1"], relation["arg2"]) == (
        "CAUSED_BY",
        event.id,
        drug.id,
    )
    assert sorted(exported_ann(store, tmp_path)) == sorted(FIXTURE.splitlines())


def test_extra_tab_fields_after_the_span_text_are_not_text(tmp_path: Path) -> None:
    # MACCROBAT 25661749.ann T145 has a stray field; PHEE 19047493_2.ann T7 a trailing tab.
    ann = "T1\tEVENT 30 45\tfacial erythema\t\u2005\nT2\tDRUG 52 61\tdupilumab\t\n"
    store = imported(tmp_path, pair(tmp_path / "in", "case", TEXT, ann))
    assert [s.text for s in store.spans()] == ["facial erythema", "dupilumab"]


def test_event_and_equivalence_lines_are_kept_verbatim_with_their_spaces(tmp_path: Path) -> None:
    # MACCROBAT: E lines end with a space, R lines on events with a tab, * lines are n-ary.
    kept = [
        "E1\tAdverse_event:T1 ",
        "R2\tBEFORE Arg1:E1 Arg2:E1\t",
        "*\tOVERLAP E1 E1",
        "A3\tPOLARITY E1 NEG",
        "#2\tAnnotatorNotes E1\tnote on an event",
    ]
    ann = "T1\tEVENT 30 45\tfacial erythema\n" + "\n".join(kept) + "\n"
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    store = Store(tmp_path / "reviewer.db")
    summary = import_paths(store, [folder], reviewer="al")
    assert summary.kept == {
        ("E", "kept"): 1,
        ("R", "kept"): 1,
        ("*", "kept"): 1,
        ("A", "kept"): 1,
        ("#", "kept"): 1,
    }
    lines = exported_ann(store, tmp_path)
    assert lines[-len(kept) :] == kept  # unchanged and in their order, after the T lines


def test_discontinuous_fragments_keep_the_file_order(tmp_path: Path) -> None:
    # PHEE lists 9 spans' fragments in reverse document order; sorting would change the text.
    ann = "T1\tTreatment 52 61;2 13\tdupilumab 27-year-old\n"
    store = imported(tmp_path, pair(tmp_path / "in", "case", TEXT, ann))
    (span,) = store.spans()
    assert span.fragments == ((52, 61), (2, 13))
    assert (span.start, span.end, span.text) == (2, 61, "dupilumab 27-year-old")
    assert exported_ann(store, tmp_path) == [ann.rstrip("\n")]


def test_ids_out_of_order_duplicates_overlaps_and_no_final_newline(tmp_path: Path) -> None:
    ann = (
        "T12\tEVENT 30 45\tfacial erythema\n"
        "T3\tEVENT 30 45\tfacial erythema\n"  # the same offsets under another id: both kept
        "T7\tEVENT 37 45\terythema\n"  # nested
        "T8\tDRUG 40 61\tthema after dupilumab"  # crossing; no final newline
    )
    store = imported(tmp_path, pair(tmp_path / "in", "case", TEXT, ann))
    assert len(store.spans()) == 4
    assert sorted(exported_ann(store, tmp_path)) == sorted(ann.split("\n"))


def test_unicode_spaces_at_span_edges_are_never_trimmed(tmp_path: Path) -> None:
    # MACCROBAT: "\u200a21\u200aIU/L", zero-width spaces at span edges.
    text = "ALT was\u200a21\u200aIU/L and \u200bANA\u200b negative.\n"
    start = text.index("\u200a21")
    ann = (
        f"T1\tLab_value {start} {start + 8}\t\u200a21\u200aIU/L\n"
        f"T2\tTest {text.index(chr(0x200B))} {text.index(chr(0x200B)) + 5}\t\u200bANA\u200b\n"
    )
    store = imported(tmp_path, pair(tmp_path / "in", "case", text, ann))
    assert [s.text for s in store.spans()] == ["\u200a21\u200aIU/L", "\u200bANA\u200b"]
    assert sorted(exported_ann(store, tmp_path)) == sorted(ann.splitlines())


def test_crlf_and_bom_files_are_read_with_brat_offsets(tmp_path: Path) -> None:
    # brat's offsets count CRLF as one character (universal newlines) and no BOM.
    text = "\ufeffFever\r\nafter dupilumab\r\n"
    ann = "T1\tEVENT 0 5\tFever\nT2\tDRUG 12 21\tdupilumab\n"
    raw = "Fever\nafter dupilumab\n"
    assert raw[12:21] == "dupilumab"
    store = imported(tmp_path, pair(tmp_path / "in", "case", text.encode("utf-8"), ann))
    assert store.report("case").text == raw
    assert [s.text for s in store.spans()] == ["Fever", "dupilumab"]


def test_emoji_and_combining_marks_count_as_code_points(tmp_path: Path) -> None:
    text = "Patient 💊 took cafe\u0301 and dupilumab.\n"
    start = text.index("dupilumab")
    assert start == 25  # code points; UTF-16 would say 26
    ann = f"T1\tDRUG {start} {start + 9}\tdupilumab\nT2\tFOOD 15 20\tcafe\u0301\n"
    store = imported(tmp_path, pair(tmp_path / "in", "case", text, ann))
    assert sorted(s.text for s in store.spans()) == ["cafe\u0301", "dupilumab"]
    assert sorted(exported_ann(store, tmp_path)) == sorted(ann.splitlines())


def test_a_span_across_a_line_break_is_written_as_fragments(tmp_path: Path) -> None:
    text = "facial\nerythema after dupilumab\n"
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        '{"id": "case", "text": "facial\\nerythema after dupilumab\\n", '
        '"spans": [{"start": 0, "end": 15, "label": "event"}]}\n',
        encoding="utf-8",
    )
    store = imported(tmp_path, jsonl)
    assert store.spans()[0].text == "facial\nerythema"
    assert exported_ann(store, tmp_path) == ["T1\tevent 0 6;7 15\tfacial erythema"]
    assert text[0:6] + " " + text[7:15] == "facial erythema"


def test_empty_ann_and_txt_without_ann_are_reports_without_spans(tmp_path: Path) -> None:
    folder = pair(tmp_path / "in", "empty", TEXT, "")
    pair(folder, "alone", "Another report.\n", None)
    pair(folder, "other", TEXT, "T1\tDRUG 52 61\tdupilumab\n")
    store = imported(tmp_path, folder)
    assert sorted(store.report_ids()) == ["alone", "empty", "other"]
    assert [s.report_id for s in store.spans()] == ["other"]


def test_an_ann_without_its_txt_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = pair(tmp_path / "in", "fine", TEXT, "T1\tDRUG 52 61\tdupilumab\n")
    (folder / "orphan.ann").write_text("T1\tDRUG 0 1\tA\n", encoding="utf-8")
    with pytest.raises(ImportStopped, match=r"orphan.ann: has no .txt beside it"):
        imported(tmp_path, folder)
    with Store(tmp_path / "again.db") as store:
        summary = import_paths(store, [folder], reviewer="al", skip_invalid=True)
        assert (summary.reports, summary.skipped) == (1, 1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T2\tDRUG 52 61\tDupilumab", "says 'Dupilumab' but the text at 52 61 is 'dupilumab'"),
        ("T2\tDRUG 52 999\tdupilumab", "past the end of the text"),
        ("T2\tDRUG 61 52\tdupilumab", "empty or reversed fragment"),
        ("T2\tDRUG fifty\tdupilumab", "bad offsets"),
    ],
)
def test_a_bad_t_line_names_file_and_line_and_skip_invalid_keeps_the_rest(
    tmp_path: Path, line: str, message: str
) -> None:
    ann = f"T1\tEVENT 30 45\tfacial erythema\n{line}\nT3\tTEST 63 66\tANA\n"
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    with pytest.raises(ImportStopped, match=rf"case.ann:2: .*{message}") as stop:
        imported(tmp_path, folder)
    assert "case.ann:2:" in str(stop.value)
    with Store(tmp_path / "skip.db") as store:
        summary = import_paths(store, [folder], reviewer="al", skip_invalid=True)
        assert summary.skipped == 1
        assert [s.text for s in store.spans()] == ["facial erythema", "ANA"]


def test_label_mapping_and_dropping(tmp_path: Path) -> None:
    ann = (
        "T1\tSign_symptom 30 45\tfacial erythema\nT2\tMedication 52 61\tdupilumab\n"
        "T3\tAge 2 13\t27-year-old\nR1\tCAUSED_BY Arg1:T1 Arg2:T3\n"
    )
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    mapping = {"Medication": "drug", "Sign_symptom": "event"}
    with Store(tmp_path / "kept.db") as store:
        summary = import_paths(store, [folder], reviewer="al", label_map=mapping)
        assert sorted(s.label for s in store.spans()) == ["Age", "drug", "event"]
        assert "Age" in store.labels  # kept as a label of its own
        assert "label Medication -> drug: 1" in summary.details()
    with Store(tmp_path / "dropped.db") as store:
        summary = import_paths(
            store, [folder], reviewer="al", label_map=mapping, drop_unmapped=True
        )
        assert sorted(s.label for s in store.spans()) == ["drug", "event"]
        assert "label Age -> (dropped): 1" in summary.details()
        assert store.relations("case") == []  # its argument was dropped with it
        assert "Age" not in store.labels


def test_reimporting_a_brat_folder_changes_nothing(tmp_path: Path) -> None:
    ann = FIXTURE + "E1\tAdverse_event:T1 \n"
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    store = imported(tmp_path, folder)
    before = (store.spans(), store.relations("case"), store.kept_lines("case", "brat"))
    summary = import_paths(store, [folder], reviewer="al")
    assert (summary.reports, summary.spans) == (0, 0)
    assert (store.spans(), store.relations("case"), store.kept_lines("case", "brat")) == before


def test_annotation_conf_supplies_the_label_set(tmp_path: Path) -> None:
    folder = pair(tmp_path / "in" / "docs", "case", TEXT, "T1\tDRUG 52 61\tdupilumab\n")
    (tmp_path / "in" / "annotation.conf").write_text(
        "[entities]\n# comment\nDRUG\n!Abstract\n\tDOSE\n-----\nROUTE\n[relations]\nX Arg1:DRUG\n",
        encoding="utf-8",
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [tmp_path / "in"], reviewer="al", label_map={"ROUTE": "route"})
        assert {"DRUG", "Abstract", "DOSE", "route"} <= set(store.labels.names)
        assert "X" not in store.labels  # relation types are not labels
    assert folder.is_dir()


def test_kept_lines_pointing_at_spans_not_written_are_left_out_and_said(tmp_path: Path) -> None:
    ann = (
        "T1\tSign_symptom 30 45\tfacial erythema\nT2\tAge 2 13\t27-year-old\n"
        "E1\tClinical_event:T2 \n"  # its trigger is dropped below
        "E2\tClinical_event:T1 \n"
        "R5\tBEFORE Arg1:E1 Arg2:E2\t\n"  # points at E1, which goes: goes too
        "*\tOVERLAP E2 E2\n"
    )
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(
            store, [folder], reviewer="al", label_map={"Sign_symptom": "event"}, drop_unmapped=True
        )
        notes: list[str] = []
        export_brat(store, tmp_path / "out", notes=notes)
    lines = (tmp_path / "out" / "case.ann").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "T1\tevent 30 45\tfacial erythema",
        "E2\tClinical_event:T1 ",
        "*\tOVERLAP E2 E2",
    ]
    assert notes == [
        "case: kept line E1 points at T2, which is not written",
        "case: kept line R5 points at E1, which is not written",
    ]


def test_two_reviewers_brat_annotations_export_one_at_a_time(tmp_path: Path) -> None:
    first = pair(tmp_path / "a", "case", TEXT, "T1\tDRUG 52 61\tdupilumab\nE1\tEv:T1 \n")
    second = pair(tmp_path / "b", "case", TEXT, "T1\tEVENT 30 45\tfacial erythema\nE1\tEv:T1 \n")
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [first], reviewer="alice")
        import_paths(store, [second], reviewer="bob")
        with pytest.raises(ReviewerError, match="alice, bob.*--reviewer"):
            export_brat(store, tmp_path / "out")
        assert not (tmp_path / "out").exists()  # refused before anything was written
        export_brat(store, tmp_path / "bob", reviewer="bob")
    assert (tmp_path / "bob" / "case.ann").read_text().splitlines() == [
        "T1\tEVENT 30 45\tfacial erythema",
        "E1\tEv:T1 ",
    ]


def test_a_new_span_never_takes_an_id_a_kept_line_names(tmp_path: Path) -> None:
    ann = "T1\tDRUG 52 61\tdupilumab\nT2\tOther 2 13\t27-year-old\nE1\tEv:T2 \nA1\tNeg E1\n"
    folder = pair(tmp_path / "in", "case", TEXT, ann)
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [folder], reviewer="al", label_map={"DRUG": "drug"}, drop_unmapped=True)
        store.add_span(Span("case", 63, 66, "test", "ANA", "al"))
        export_brat(store, tmp_path / "out")
    lines = (tmp_path / "out" / "case.ann").read_text().splitlines()
    assert lines == ["T1\tdrug 52 61\tdupilumab", "T3\ttest 63 66\tANA"]  # not T2


def test_ids_in_a_notes_free_text_are_not_references(tmp_path: Path) -> None:
    ann = "T1\tDRUG 52 61\tdupilumab\nE1\tEv:T1 \n#1\tAnnotatorNotes E1\tT2 weighted, see A1\n"
    store = imported(tmp_path, pair(tmp_path / "in", "case", TEXT, ann))
    assert exported_ann(store, tmp_path)[-1] == "#1\tAnnotatorNotes E1\tT2 weighted, see A1"


def test_report_ids_naming_the_same_file_stop_the_export_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_text('{"id": "d", "text": "One"}\n{"id": "./d", "text": "Two"}\n', "utf-8")
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="al")
        with pytest.raises(ReviewerError, match="'d' and './d' would both be written"):
            export_brat(store, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_lines_that_are_not_brat_are_errors(tmp_path: Path) -> None:
    for bad in ("hello world", "T1\t 30 45\tfacial erythema"):
        folder = pair(tmp_path / "in", "case", TEXT, f"T2\tDRUG 52 61\tdupilumab\n{bad}\n")
        with pytest.raises(ImportStopped, match="case.ann:2: "):
            imported(tmp_path, folder)


def test_brat_cannot_write_a_label_with_a_space_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "case", "text": "Severe rash", "spans": '
        '[{"start": 7, "end": 11, "label": "Adverse event"}]}\n',
        encoding="utf-8",
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="al", new_labels=True)
        with pytest.raises(ReviewerError, match="brat cannot write .* with a space"):
            export_brat(store, tmp_path / "out")


def test_a_bad_span_names_its_ann_line(tmp_path: Path) -> None:
    # Overlapping fragments pass the reader and are refused by the model: still file:line.
    folder = pair(
        tmp_path / "in",
        "case",
        TEXT,
        "T1\tDRUG 52 61\tdupilumab\nT2\tEVENT 30 45;37 45\tfacial erythema erythema\n",
    )
    with pytest.raises(ImportStopped, match=r"case.ann:2: .*overlap"):
        imported(tmp_path, folder)
