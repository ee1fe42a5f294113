"""PubTator in: hand-made blocks and the BC5CDR sample of ../shared/corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.store import Store

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "bc5cdr_sample"

DOC = (
    "1|t|Lidocaine-induced asystole.\n"
    "1|a|Renal and hepatic failure after lidocaine.\n"
    "1\t0\t9\tLidocaine\tChemical\tD008012\t\n"
    "1\t28\t53\tRenal and hepatic failure\tDisease\tD051437|D048550\t"
    "Renal failure|hepatic failure\n"
    "1\tCID\tD008012\tD051437\n"
)


def test_title_and_abstract_are_joined_by_one_space(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text(DOC + "\n" + DOC.replace("1", "2"), encoding="utf-8")
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [path], reviewer="al", label_map={"Chemical": "drug"})
        assert summary.formats == {"pubtator": 1}  # told apart from a plain report by line one
        report = store.report("1")
        assert (
            report.text == "Lidocaine-induced asystole. Renal and hepatic failure after lidocaine."
        )
        assert report.title == "Lidocaine-induced asystole."
        drug, disease = store.spans("1")
        assert (drug.label, drug.text, drug.refs[0]["ref"]) == ("drug", "Lidocaine", "MESH:D008012")
        assert (disease.label, disease.text) == ("Disease", "Renal and hepatic failure")
        assert [r["ref"] for r in disease.refs] == ["MESH:D051437", "MESH:D048550"]
        assert [r["text"] for r in disease.refs] == ["Renal failure", "hepatic failure"]
        assert store.kept_lines("1", "pubtator") == ["1\tCID\tD008012\tD051437"]
        assert summary.kept[("CID", "kept")] == 2


def test_a_mention_that_does_not_match_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(DOC.replace("0\t9\tLidocaine", "1\t9\tLidocaine"), encoding="utf-8")
    with (
        Store(tmp_path / "reviewer.db") as store,
        pytest.raises(ImportStopped, match="bad.txt:3: "),
    ):
        import_paths(store, [path], reviewer="al")


@pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"{SAMPLE} is absent (shared corpora)")
def test_bc5cdr_sample_imports_exactly(tmp_path: Path) -> None:
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [SAMPLE / "CDR_sample.txt"], reviewer="al")
        assert (summary.reports, summary.spans, summary.errors) == (50, 925, [])
        assert summary.kept[("CID", "kept")] == 124
        assert store.stats()["labels"] == {"Chemical": 502, "Disease": 423}
        for span in store.spans():
            assert store.report(span.report_id).text[span.start : span.end] == span.text


def test_a_document_missing_its_blank_line_is_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "glued.txt"
    path.write_text("1|t|First title\n2|a|Second abstract\n", encoding="utf-8")
    with (
        Store(tmp_path / "reviewer.db") as store,
        pytest.raises(ImportStopped, match="glued.txt:2"),
    ):
        import_paths(store, [path], reviewer="al")
