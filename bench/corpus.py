"""A generated corpus: reports that read like case reports, with spans on real words."""

from __future__ import annotations

import itertools
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

# What a span says around its head word, as case reports write it: "dupilumab 300 mg every
# two weeks", "facial erythema", "ALT 245 U/L", "drug-induced lupus". With these, 200,000
# spans hold tens of thousands of distinct texts, a few common and most rare, as in a real
# corpus (the head words alone would be 40: a search index with nothing to search).
DOSE_UNITS = ["mg", "mg/day", "mg/kg", "µg", "g", "units"]
FREQUENCIES = ["daily", "twice daily", "weekly", "every two weeks", "at night", "intravenously"]
MODIFIERS = [
    "facial", "generalized", "severe", "mild", "acute", "chronic", "recurrent", "bilateral",
    "drug-induced", "grade 2", "grade 3", "fatal", "transient", "persistent", "early-onset",
    "late-onset", "localized", "diffuse", "refractory", "symptomatic",
]  # fmt: skip
TEST_UNITS = {
    "ALT": "U/L", "creatinine": "mg/dL", "troponin": "ng/L", "ANA": "titre", "QTc": "ms",
    "lipase": "U/L", "INR": "",
}  # fmt: skip
VOCABULARY = 40_000  # distinct filler words besides FILLER (Zipf-distributed)
_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ine", "ol", "ex", "um"]


def _head(rng: random.Random, words: list[str]) -> str:
    # Zipf: the first words of each list are far more common than the last.
    return rng.choices(words, weights=[1 / (i + 1) for i in range(len(words))])[0]


def span_text(rng: random.Random, label: str, words: list[str]) -> str:
    """A span of ``label``: its head word alone about half the time, else with a dose,
    a value or a modifier."""
    head = _head(rng, words)
    if rng.random() < 0.5:
        return head
    if label == "drug":
        dose = f"{head} {rng.choice([1, 2, 5, 10, 20, 25, 40, 50, 100, 200, 300, 500, 1000])} "
        dose += rng.choice(DOSE_UNITS)
        return dose if rng.random() < 0.5 else f"{dose} {rng.choice(FREQUENCIES)}"
    if label == "test" and head in TEST_UNITS:
        value = rng.choice([str(rng.randint(1, 2000)), f"{rng.uniform(0.1, 50):.1f}"])
        return f"{head} {value} {TEST_UNITS[head]}".rstrip()
    if rng.random() < 0.3:  # "severe drug-induced hepatitis"
        return f"{rng.choice(MODIFIERS)} {rng.choice(MODIFIERS)} {head}"
    return f"{rng.choice(MODIFIERS)} {head}"


def vocabulary(seed: int = 11) -> tuple[list[str], list[float]]:
    """The filler: FILLER's common words and ``VOCABULARY`` made-up words of two to four
    syllables, with Zipf cumulative weights (about 40,000 distinct words in 10,000 reports,
    as Heaps' law gives for real case reports of this length)."""
    rng = random.Random(seed)
    made: dict[str, None] = {}
    while len(made) < VOCABULARY:
        made["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    words = list(dict.fromkeys(FILLER)) + list(made)
    weights = [1 / (i + 1) for i in range(len(words))]
    return words, list(itertools.accumulate(weights))


_VOCABULARY = vocabulary()


def make_report(rng: random.Random, n: int, spans_per_report: int) -> dict:
    parts: list[str] = [f"Title: Generated case report {n}\nDOI: 10.5555/bench.{n}\n\n"]
    pos = len(parts[0])
    spans = []
    words, cumulative = _VOCABULARY
    for i in range(spans_per_report):
        filler = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(8, 22))) + " "
        parts.append(filler)
        pos += len(filler)
        label, heads = WORDS[i % 4]
        text = span_text(rng, label, heads)
        spans.append({"start": pos, "end": pos + len(text), "label": label})
        parts.append(text + (". " if i % 5 == 4 else " "))
        pos += len(text) + (2 if i % 5 == 4 else 1)
    return {"id": f"bench{n:06d}", "text": "".join(parts), "_annotator_id": "bench", "spans": spans}


def write_corpus(path: Path, reports: int, spans: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    per = spans // reports
    records = [make_report(rng, n, per) for n in range(reports)]
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return records
