"""A generated corpus: reports that read like case reports, with spans on real words."""

from __future__ import annotations

import json
import random
from pathlib import Path

DRUGS = [
    "dupilumab",
    "amoxicillin",
    "vancomycin",
    "nivolumab",
    "lithium",
    "citalopram",
    "warfarin",
    "fluconazole",
    "isotretinoin",
    "carbamazepine",
    "clozapine",
    "methotrexate",
]
EVENTS = [
    "erythema",
    "hepatitis",
    "rash",
    "myocarditis",
    "tremor",
    "syncope",
    "bleeding",
    "pancreatitis",
    "agranulocytosis",
    "pneumonitis",
    "fever",
    "eosinophilia",
]
TESTS = ["ALT", "creatinine", "troponin", "ANA", "ECG", "QTc", "biopsy", "lipase", "INR"]
DIAGNOSES = ["lupus", "DRESS", "TEN", "sepsis", "psoriasis", "epilepsy", "schizophrenia"]
FILLER = [
    "the",
    "patient",
    "was",
    "admitted",
    "with",
    "a",
    "history",
    "of",
    "and",
    "after",
    "treatment",
    "was",
    "started",
    "the",
    "symptoms",
    "resolved",
    "within",
    "days",
    "of",
    "stopping",
    "therapy",
    "µg",
    "≥",
    "→",
    "é",
]
WORDS = [("drug", DRUGS), ("event", EVENTS), ("test", TESTS), ("diagnosis", DIAGNOSES)]


def make_report(rng: random.Random, n: int, spans_per_report: int) -> dict:
    parts: list[str] = [f"Title: Generated case report {n}\nDOI: 10.5555/bench.{n}\n\n"]
    pos = len(parts[0])
    spans = []
    for i in range(spans_per_report):
        filler = " ".join(rng.choice(FILLER) for _ in range(rng.randint(8, 22))) + " "
        parts.append(filler)
        pos += len(filler)
        label, words = WORDS[i % 4]
        word = rng.choice(words)
        spans.append({"start": pos, "end": pos + len(word), "label": label})
        parts.append(word + (". " if i % 5 == 4 else " "))
        pos += len(word) + (2 if i % 5 == 4 else 1)
    return {"id": f"bench{n:06d}", "text": "".join(parts), "_annotator_id": "bench", "spans": spans}


def write_corpus(path: Path, reports: int, spans: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    per = spans // reports
    records = [make_report(rng, n, per) for n in range(reports)]
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return records
