"""brat round trips on real corpora (../shared/corpora): import, export as brat, and compare
every file with its original, line kind by line kind, up to id renumbering.

The comparison parses the .ann files itself (not with reviewer's reader), so a reader bug cannot
hide in both sides.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reviewer.core.exporter import export_brat
from reviewer.core.importer import import_paths
from reviewer.core.store import Store

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
MACCROBAT = CORPORA / "maccrobat2020" / "MACCROBAT2020"
PHEE = CORPORA / "phee" / "data" / "clean" / "dev"


def needs(path: Path):
    return pytest.mark.skipif(
        not path.is_dir(), reason=f"{path} is absent (the shared corpora are not in a clone)"
    )


def parse(ann: Path, text: str) -> dict[str, Counter]:
    """An .ann as multisets of what it says, with T ids replaced by what the T is."""
    lines = [line for line in ann.read_text(encoding="utf-8").split("\n") if line.strip()]
    tees: dict[str, tuple] = {}
    for line in lines:
        if line.startswith("T"):
            ident, data, rest = line.split("\t", 2)
            label, offsets = data.split(" ", 1)
            frags = tuple(tuple(map(int, f.split())) for f in offsets.split(";"))
            covered = " ".join(text[s:e] for s, e in frags)
            if rest != covered and rest.split("\t")[0] == covered:
                rest = covered  # the stray extra field of MACCROBAT T145 / PHEE T7
            assert rest == covered, (ann, line)
            tees[ident] = (label, frags, rest)
    out: dict[str, Counter] = {k: Counter() for k in ("T", "A", "R", "N", "#", "kept")}
    out["T"].update(tees.values())
    for line in lines:
        if line.startswith("T"):
            continue
        parts = line.split("\t")
        fields = parts[1].split() if len(parts) > 1 else []
        kind = line[0]
        if kind == "A" and len(fields) in (2, 3) and fields[1] in tees:
            out["A"][(fields[0], tees[fields[1]], tuple(fields[2:]))] += 1
        elif kind == "#" and len(fields) == 2 and fields[1] in tees:
            out["#"][(tees[fields[1]], parts[2] if len(parts) > 2 else "")] += 1
        elif kind == "N" and len(fields) == 3 and fields[1] in tees:
            out["N"][(fields[0], tees[fields[1]], fields[2], parts[2:])] += 1
        elif kind == "R" and all(f.split(":")[-1] in tees for f in fields[1:]) and fields[1:]:
            args = tuple((f.split(":")[0], tees[f.split(":")[1]]) for f in fields[1:])
            out["R"][(fields[0], args)] += 1
        else:
            out["kept"][line] += 1
    return out


def round_trip(tmp_path: Path, corpus: Path) -> tuple[int, Counter]:
    """Import ``corpus`` as brat, export it, compare every file; returns files and line counts."""
    out = tmp_path / "out"
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [corpus], reviewer="corpus")
        assert summary.errors == [] and summary.formats == {"brat": summary.files}
        assert export_brat(store, out) == summary.files
    totals: Counter = Counter()
    for ann in sorted(corpus.glob("*.ann")):
        text = ann.with_suffix(".txt").read_text(encoding="utf-8")
        exported = out / ann.name
        assert (out / ann.with_suffix(".txt").name).read_text(encoding="utf-8") == text
        before, after = parse(ann, text), parse(exported, text)
        for kind in before:
            assert before[kind] == after[kind], (ann.name, kind)
            totals[kind] += sum(before[kind].values())
    return summary.files, totals


@needs(MACCROBAT)
def test_maccrobat_round_trips_through_brat(tmp_path: Path) -> None:
    files, totals = round_trip(tmp_path, MACCROBAT)
    assert files == 200
    assert totals["T"] == 25_189
    # R, A, * and # lines point at events in MACCROBAT, so they travel as kept lines.
    assert totals["kept"] > 30_000


@needs(PHEE)
def test_phee_round_trips_with_discontinuous_spans_in_file_order(tmp_path: Path) -> None:
    files, totals = round_trip(tmp_path, PHEE)
    assert files == 961 and totals["T"] == 6_098
    with Store(tmp_path / "reviewer.db") as store:
        spans = [s for s in store.spans() if s.fragments]
        assert len(spans) == 123
        backwards = [s for s in spans if list(s.fragments) != sorted(s.fragments)]
        assert len(backwards) == 9
        for span in backwards:  # the text follows the file's order, not the document's
            text = store.report(span.report_id).text
            assert span.text == " ".join(text[a:b] for a, b in span.fragments)


@pytest.mark.parametrize("folder", ["brat_examples", "pharmaconer_dev_es"])
def test_other_brat_corpora_import_with_no_offset_errors(tmp_path: Path, folder: str) -> None:
    if not (CORPORA / folder).is_dir():
        pytest.skip(f"{CORPORA / folder} is absent (the shared corpora are not in a clone)")
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [CORPORA / folder], reviewer="corpus")
        assert summary.errors == []
        assert summary.formats.get("brat", 0) > 0 and summary.spans > 0
        for span in store.spans():
            text = store.report(span.report_id).text
            assert span.text == " ".join(text[a:b] for a, b in span.pieces)
