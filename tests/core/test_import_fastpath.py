"""The import's fast path (a new report whose spans are plain: rows built directly, no ``Span``
per span) stores exactly what the general path stores, counts the same and fails the same."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import uuid
from pathlib import Path

import pytest

from reviewer.core import importer, rows
from reviewer.core import store as store_module
from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.store import Store

TEXT = "Title: A case\nDOI: 10.1/x\n\nA man took aspirin and got a rash. Aspirin again, rash again."
A, R = TEXT.index("aspirin"), TEXT.index("rash")
A2, R2 = TEXT.index("Aspirin"), TEXT.index("rash", R + 1)
PLAIN = [
    {"start": A, "end": A + 7, "label": "drug"},
    {"start": R, "end": R + 4, "label": "event", "text": "rash"},
    {"start": A2, "end": A2 + 7, "label": "DRUG"},
    {"start": R2, "end": R2 + 4, "label": "Event", "note": "again", "reviewer": "bob"},
    {"start": A, "end": A + 7, "label": "drug"},  # the same span twice: both kept
]
NAMESPACE = uuid.UUID("9a7c1d2e-4b1f-5c3a-9e8d-6f0b2a4c8e11")


def jsonl(path: Path, *records: dict | str) -> Path:
    lines = (r if isinstance(r, str) else json.dumps(r) for r in records)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def import_steps(store: Store, steps) -> list:
    """Run each ``(paths, options)`` import in turn: what each said (its error, when it
    stopped, then its summary line, details, errors and spans kept as they were)."""
    results: list = []
    for paths, options in steps:
        try:
            summary = import_paths(store, paths, reviewer="alice", **options)
        except ImportStopped as exc:
            summary = exc.summary
            results.append(str(exc))
        results.append((summary.line(), summary.details(), summary.errors, summary.kept_here))
    return results


def outcome(tmp: Path, monkeypatch, steps, *, general: bool) -> dict:
    """Every row and every summary the imports leave, with a clock that counts, through the
    fast path or (``general``) with it turned off."""
    clock = itertools.count()
    fake_now = lambda: f"2024-01-01T00:00:00.{next(clock):06d}+00:00"  # noqa: E731
    for module in (importer, rows, store_module):
        monkeypatch.setattr(module, "now_iso", fake_now)
    if general:
        monkeypatch.setattr(importer, "_all_plain", lambda spans: False)
    db = tmp / ("general.db" if general else "fast.db")
    with Store(db) as store:
        results = import_steps(store, steps)
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    tables = {
        name: conn.execute(f"SELECT rowid, * FROM {name} ORDER BY rowid").fetchall()
        for name in ("reports", "spans", "labels", "kept_lines")
    }
    conn.close()
    return {"results": results, **tables}


def same_both_ways(tmp: Path, monkeypatch, steps) -> dict:
    fast = outcome(tmp, monkeypatch, steps, general=False)
    assert fast == outcome(tmp, monkeypatch, steps, general=True)
    return fast


def test_plain_spans_store_the_same_rows_both_ways(tmp_path: Path, monkeypatch) -> None:
    crlf = TEXT.replace("\n", "\r\n")
    at = crlf.index("aspirin")
    path = jsonl(
        tmp_path / "a.jsonl",
        {"id": "r1", "text": TEXT, "spans": PLAIN},
        {"id": "r2", "text": TEXT, "spans": PLAIN[:2], "_annotator_id": "carol"},  # a duplicate
        {"id": "r1", "text": TEXT, "spans": PLAIN},  # again in the same file: ids go on counting
        {"id": "r3", "text": crlf, "spans": [{"start": at, "end": at + 7, "label": "drug"}]},
        {"id": "r4", "text": "\ufeff" + crlf, "spans": [{"start": 1, "end": 6, "label": "test"}]},
        {"id": "r5", "text": TEXT + "!", "spans": PLAIN + [{**PLAIN[0], "id": "given"}]},
    )
    got = same_both_ways(tmp_path, monkeypatch, [([path], {}), ([path], {})])
    assert len(got["spans"]) == 5 + 2 + 5 + 1 + 1 + 6
    assert "1 already present" not in got["results"][0][0]


def test_the_fast_path_counts_labels_and_follows_new_ones(tmp_path: Path, monkeypatch) -> None:
    # DRUG folds to drug until --map Q=DRUG makes DRUG a label of its own; then it is DRUG.
    path = jsonl(
        tmp_path / "a.jsonl",
        {"id": "m1", "text": TEXT, "spans": [{"start": A, "end": A + 7, "label": "DRUG"}]},
        {
            "id": "m2",
            "text": TEXT + ".",
            "spans": [
                {"start": A, "end": A + 7, "label": "Q"},
                {"start": A, "end": A + 7, "label": "DRUG"},
                {"start": R, "end": R + 4, "label": "Foo"},
            ],
        },
        {"id": "m3", "text": TEXT + "..", "spans": [{"start": A, "end": A + 7, "label": "DRUG"}]},
    )
    got = same_both_ways(
        tmp_path, monkeypatch, [([path], {"label_map": {"Q": "DRUG"}, "drop_unmapped": True})]
    )
    assert [row[5] for row in got["spans"]] == ["drug", "DRUG", "DRUG", "DRUG"]
    assert "label Foo -> (dropped): 1" in got["results"][0][1]


@pytest.mark.parametrize("skip_invalid", [True, False])
def test_bad_spans_fail_the_same_way(tmp_path: Path, monkeypatch, skip_invalid: bool) -> None:
    bad = [
        {"start": A, "end": A + 7, "label": "drug", "text": "nope"},
        {"start": 5, "end": 5000, "label": "drug"},
        {"start": 5, "end": 5, "label": "event"},
        {"start": 1, "end": 3, "label": "Medication"},
        {"start": 1, "end": 3, "label": "drug", "reviewer": "x\x1by"},
    ]
    records = [{"id": "ok", "text": TEXT, "spans": PLAIN}]
    for n, span in enumerate(bad):
        # Spans before the bad one still count their labels and their occurrences.
        records.append({"id": "r1", "text": TEXT + "?", "spans": [*PLAIN[:3], span, PLAIN[0]]})
        records.append({"id": f"b{n}", "text": TEXT + str(n), "spans": [span]})
    records.append({"id": "r1", "text": TEXT + "?", "spans": PLAIN})
    records.append({"id": "late", "text": TEXT, "_annotator_id": "bad\tname", "spans": PLAIN})
    path = jsonl(tmp_path / "a.jsonl", *records)
    got = same_both_ways(tmp_path, monkeypatch, [([path], {"skip_invalid": skip_invalid})])
    if skip_invalid:
        assert len(got["results"][0][2]) == 2 * len(bad) + 1
    else:
        assert got["results"][0] == (
            f"{path}:2: span {A}-{A + 7} says 'nope' but the text there is 'aspirin'"
        )


def test_into_a_populated_database_the_same_both_ways(tmp_path: Path, monkeypatch) -> None:
    first = jsonl(
        tmp_path / "first.jsonl",
        {"id": "r1", "text": TEXT, "spans": PLAIN[:2]},
        {"id": "r2", "text": TEXT + "2", "spans": [{**PLAIN[0], "id": "S1"}]},
    )
    second = jsonl(
        tmp_path / "second.jsonl",
        {"id": "r1", "text": TEXT, "spans": PLAIN},  # stored: its spans are looked up
        {"id": "r3", "text": TEXT + "2", "spans": PLAIN},  # the text of r2: a duplicate
        {"id": "r4", "text": TEXT + "4", "spans": [{**PLAIN[1], "id": "S1"}]},  # S1 is taken
    )
    clash = jsonl(tmp_path / "clash.jsonl", {"id": "r2", "text": TEXT + "?", "spans": PLAIN})
    steps = [([first], {}), ([second], {"skip_invalid": True}), ([clash], {})]
    got = same_both_ways(tmp_path, monkeypatch, steps)
    assert "1 duplicate of other reports" in got["results"][1][0]
    assert "span id S1 is already stored" in got["results"][1][2][0]
    assert "already stored with a different text" in got["results"][2]


def test_derived_ids_are_uuid5_of_report_reviewer_offsets_label_and_count(
    tmp_path: Path,
) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        {"id": "r1", "text": TEXT, "spans": PLAIN},
        {"id": "r1", "text": TEXT, "spans": PLAIN[:1]},
    )
    with Store(tmp_path / "reviewer.db") as store:
        import_paths(store, [path], reviewer="alice")
        ids = {s.id for s in store.spans("r1")}
    names = [
        f"r1\x1falice\x1f{A}\x1f{A + 7}\x1fdrug\x1f0",
        f"r1\x1falice\x1f{R}\x1f{R + 4}\x1fevent\x1f0",
        f"r1\x1falice\x1f{A2}\x1f{A2 + 7}\x1fdrug\x1f0",
        f"r1\x1fbob\x1f{R2}\x1f{R2 + 4}\x1fevent\x1f0",
        f"r1\x1falice\x1f{A}\x1f{A + 7}\x1fdrug\x1f1",
        f"r1\x1falice\x1f{A}\x1f{A + 7}\x1fdrug\x1f2",
    ]
    assert ids == {str(uuid.uuid5(NAMESPACE, name)) for name in names}


def test_uuid5_is_the_standard_one() -> None:
    rng = random.Random(5)
    alphabet = "ab\x1f0-9é→𝔘 \n"
    for _ in range(500):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert importer.uuid5(name) == str(uuid.uuid5(NAMESPACE, name))
