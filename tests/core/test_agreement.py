"""Agreement figures: cases worked out by hand, the conventions for empty and absent layers, and
cross-checks against scikit-learn, statsmodels and krippendorff on generated annotations."""

from __future__ import annotations

import json
import math
import random
import re
import warnings
from collections import Counter
from dataclasses import replace
from fractions import Fraction

import pytest

from reviewer.core.agreement import ReportLayers, compute, render_markdown, token_table

# --- a small case worked out by hand ----------------------------------------------------------
#
# R1 = "Patient took aspirin and developed severe rash."
#       0       8    13     21  25        35     42  46
# tokens: Patient took aspirin and developed severe rash .      (8 tokens)
# R2 = "Ibuprofen caused nausea."
# tokens: Ibuprofen caused nausea .                             (4 tokens)
#
#        R1                                       R2
# A      aspirin/drug, "severe rash"/event        Ibuprofen/drug, nausea/event
# B      aspirin/drug, "rash"/event               nausea/event
# C      aspirin/drug, "severe rash"/event        (did not annotate R2)

R1 = "Patient took aspirin and developed severe rash."
R2 = "Ibuprofen caused nausea."
ASPIRIN, SEVERE_RASH, RASH = (13, 20, "drug"), (35, 46, "event"), (42, 46, "event")
IBUPROFEN, NAUSEA = (0, 9, "drug"), (17, 23, "event")


def hand_items() -> list[ReportLayers]:
    return [
        ReportLayers(
            "r1",
            R1,
            {"A": [ASPIRIN, SEVERE_RASH], "B": [ASPIRIN, RASH], "C": [ASPIRIN, SEVERE_RASH]},
        ),
        ReportLayers("r2", R2, {"A": [IBUPROFEN, NAUSEA], "B": [NAUSEA]}),
    ]


def close(value: float | None, expected: Fraction | float) -> bool:
    return value is not None and value == pytest.approx(float(expected), abs=1e-12)


def test_the_spans_of_the_hand_case_are_what_the_comment_says() -> None:
    assert [R1[s:e] for s, e, _ in (ASPIRIN, SEVERE_RASH, RASH)] == [
        "aspirin",
        "severe rash",
        "rash",
    ]
    assert [R2[s:e] for s, e, _ in (IBUPROFEN, NAUSEA)] == ["Ibuprofen", "nausea"]


def test_span_f1_of_two_reviewers_by_hand() -> None:
    # |A| = 4, |B| = 3. Exact matches: aspirin (R1), nausea (R2): TP = 2.
    #   P = 2/3, R = 2/4, F1 = 2*2/(4+3) = 4/7.
    # Overlap: A's spans overlapping a same-label span of B: aspirin, "severe rash" (rash),
    #   nausea = 3 of 4 (Ibuprofen has no drug of B); B's: all 3 of 3.
    #   R = 3/4, P = 1, F1 = 2 * 3/4 / (7/4) = 6/7.
    # Per label: drug a=2 b=1 exact TP 1 -> 2/3; overlap R 1/2 P 1 -> 2/3.
    #            event a=2 b=2 exact TP 1 -> 1/2; overlap R 1 P 1 -> 1.
    pair = compute(hand_items(), reviewers=["A", "B"]).pair("A", "B")
    assert pair.reports == 2
    exact, overlap = pair.exact_total, pair.overlap_total
    assert (exact.a, exact.b, exact.matched_a, exact.matched_b) == (4, 3, 2, 2)
    assert close(exact.precision, Fraction(2, 3)) and close(exact.recall, Fraction(1, 2))
    assert close(exact.f1, Fraction(4, 7))
    assert (overlap.a, overlap.b, overlap.matched_a, overlap.matched_b) == (4, 3, 3, 3)
    assert close(overlap.recall, Fraction(3, 4)) and close(overlap.precision, 1)
    assert close(overlap.f1, Fraction(6, 7))
    assert close(pair.exact["drug"].f1, Fraction(2, 3))
    assert close(pair.overlap["drug"].f1, Fraction(2, 3))
    assert close(pair.exact["event"].f1, Fraction(1, 2))
    assert close(pair.overlap["event"].f1, 1)


def test_token_kappas_and_alpha_of_two_reviewers_by_hand() -> None:
    # Token tables (12 tokens):
    #   R1  A: O O drug O O event event O     B: O O drug O O O event O    (7 agree)
    #   R2  A: drug O event O                 B: O O event O               (3 agree)
    # Cohen: p_o = 10/12. A: O 7, drug 2, event 3. B: O 9, drug 1, event 2.
    #   p_e = (7*9 + 2*1 + 3*2)/144 = 71/144; kappa = (120-71)/(144-71) = 49/73.
    # Fleiss (2 raters): P_bar = 10/12; p_j = (16, 3, 5)/24; P_e = 290/576;
    #   kappa = (480 - 290)/(576 - 290) = 190/286 = 95/143.
    # Alpha: n = 24 values; o_cc sums to 2 per agreeing token = 20; n_c = 16, 3, 5;
    #   alpha = 1 - (n-1) * (24-20) / (24^2 - 290) = 1 - 23*4/286 = 97/143.
    agreement = compute(hand_items(), reviewers=["A", "B"])
    pair = agreement.pair("A", "B")
    assert pair.tokens == 12
    assert close(pair.kappa, Fraction(49, 73))
    assert close(agreement.fleiss, Fraction(95, 143))
    assert (agreement.fleiss_reports, agreement.fleiss_tokens) == (2, 12)
    assert close(agreement.alpha, Fraction(97, 143))
    assert (agreement.alpha_reports, agreement.alpha_tokens) == (2, 12)


def test_three_reviewers_one_of_whom_skipped_a_report_by_hand() -> None:
    # Fleiss: only R1 was annotated by A, B and C (8 tokens, 3 raters). Every token has all
    #   three alike (P_i = 1) except "severe": event 2, O 1 -> P_i = (4+1-3)/6 = 1/3.
    #   P_bar = (7 + 1/3)/8 = 11/12. Totals O 16, drug 3, event 5 of 24: P_e = 290/576.
    #   kappa = (528 - 290)/(576 - 290) = 238/286 = 119/143.
    # Alpha: R1 gives 8 units of 3 values, R2 4 units of 2 (C is missing there).
    #   sum o_cc: R1 7 units * 3*2/2 + "severe" 2*1/2 = 22; R2 3 agreeing units * 2 = 6 -> 28.
    #   n = 24 + 8 = 32; n_c: O 16+5, drug 3+1, event 5+2 = 21, 4, 7; sum n_c^2 = 506.
    #   alpha = 1 - 31 * (32-28) / (1024-506) = 1 - 124/518 = 197/259.
    agreement = compute(hand_items())
    assert agreement.reviewers == ("A", "B", "C")
    assert close(agreement.fleiss, Fraction(119, 143))
    assert (agreement.fleiss_reports, agreement.fleiss_tokens) == (1, 8)
    assert close(agreement.alpha, Fraction(197, 259))
    assert (agreement.alpha_reports, agreement.alpha_tokens) == (2, 12)
    # C is compared with A and B on R1 only: identical to A there.
    ac = agreement.pair("A", "C")
    assert (ac.reports, ac.tokens, ac.exact_total.a, ac.exact_total.b) == (1, 8, 2, 2)
    assert ac.exact_total.f1 == 1.0 and ac.overlap_total.f1 == 1.0 and ac.kappa == 1.0
    # B vs C on R1: 7 of 8 agree; B: O 6 drug 1 event 1, C: O 5 drug 1 event 2.
    #   p_e*64 = 30 + 1 + 2 = 33; kappa = (56 - 33)/(64 - 33) = 23/31.
    assert close(agreement.pair("C", "B").kappa, Fraction(23, 31))
    counts = {r: (c.reports, c.spans) for r, c in agreement.counts.items()}
    assert counts == {"A": (2, 4), "B": (2, 3), "C": (1, 2)}


def test_the_label_filter_by_hand() -> None:
    # drug only: A has aspirin and Ibuprofen, B aspirin. Exact TP 1: F1 = 2/(2+1) = 2/3.
    # Tokens become drug-or-O: 12 tokens, 11 agree (Ibuprofen). A: drug 2, O 10; B: drug 1,
    #   O 11. p_e*144 = 2 + 110 = 112; kappa = (132 - 112)/(144 - 112) = 20/32 = 5/8.
    agreement = compute(hand_items(), reviewers=["A", "B"], label="drug")
    pair = agreement.pair("A", "B")
    assert agreement.labels == ("drug",)
    assert list(pair.exact) == ["drug"]
    assert close(pair.exact_total.f1, Fraction(2, 3))
    assert close(pair.kappa, Fraction(5, 8))
    assert {r: c.spans for r, c in agreement.counts.items()} == {"A": 2, "B": 1}
    # A label nobody used: nothing to agree on.
    nothing = compute(hand_items(), label="test")
    assert nothing.pair("A", "B").exact_total.f1 is None
    assert nothing.pair("A", "B").kappa is None and nothing.alpha is None


# --- conventions ------------------------------------------------------------------------------


def test_perfect_agreement_is_one() -> None:
    layers = {r: [ASPIRIN, SEVERE_RASH] for r in ("A", "B", "C")}
    agreement = compute([ReportLayers("r1", R1, layers)])
    for pair in agreement.pairs.values():
        assert pair.exact_total.f1 == pair.overlap_total.f1 == pair.kappa == 1.0
    assert agreement.fleiss == 1.0 and agreement.alpha == 1.0


def test_an_empty_layer_annotated_nothing() -> None:
    agreement = compute([ReportLayers("r1", R1, {"A": [], "B": [ASPIRIN, RASH]})])
    pair = agreement.pair("A", "B")
    assert pair.reports == 1 and agreement.counts["A"].reports == 1
    assert pair.exact_total.f1 == 0.0 and pair.overlap_total.f1 == 0.0
    assert pair.exact_total.precision == 0.0 and pair.exact_total.recall is None
    # A is all "O": p_o equals B's share of "O", which is also p_e, so kappa is 0.
    assert pair.kappa == 0.0


def test_two_empty_layers_have_nothing_to_agree_on() -> None:
    agreement = compute([ReportLayers("r1", R1, {"A": [], "B": []})])
    pair = agreement.pair("A", "B")
    assert pair.exact_total.f1 is None and pair.overlap_total.f1 is None
    assert pair.kappa is None and agreement.fleiss is None and agreement.alpha is None
    md = render_markdown(agreement)
    assert "n/a" in md and "nan" not in md.lower()


def test_an_absent_reviewer_is_left_out_of_the_pairs_on_that_report() -> None:
    items = hand_items()
    agreement = compute(items)
    assert agreement.reports["r2"].pair("A", "C").reports == 0
    assert agreement.reports["r2"].pair("A", "C").exact_total.f1 is None
    assert agreement.reports["r2"].pair("A", "C").kappa is None
    # Absent is not empty: with C present and empty on R2, A–C loses two spans of recall.
    items[1] = ReportLayers("r2", R2, {**items[1].layers, "C": []})
    with_empty = compute(items).pair("A", "C")
    assert with_empty.reports == 2 and close(with_empty.exact_total.f1, Fraction(4, 6))


def test_exact_matching_is_one_to_one() -> None:
    # A tagged aspirin twice, B once: one pair matches, the second copy is A's surplus.
    agreement = compute([ReportLayers("r1", R1, {"A": [ASPIRIN, ASPIRIN], "B": [ASPIRIN]})])
    exact = agreement.pair("A", "B").exact_total
    assert (exact.a, exact.b, exact.matched_a) == (2, 1, 1)
    assert close(exact.f1, Fraction(2, 3))


def test_overlap_needs_a_shared_character_and_the_same_label() -> None:
    text = "severe skin rash"
    layers = {"A": [(0, 6, "event"), (7, 11, "event")], "B": [(11, 16, "event"), (0, 4, "drug")]}
    overlap = compute([ReportLayers("r", text, layers)]).pair("A", "B").overlap_total
    assert overlap.matched_a == 0 and overlap.matched_b == 0 and overlap.f1 == 0.0


def test_span_edges_split_tokens_and_the_first_longest_span_wins() -> None:
    text = "antiTNF therapy started"
    item = ReportLayers(
        "r",
        text,
        {
            "A": [(4, 7, "drug"), (0, 15, "event")],  # starts first: event everywhere
            "B": [(4, 7, "drug"), (4, 15, "event")],  # same start, longer: event
            "C": [(4, 7, "test"), (4, 7, "drug")],  # same extent: label order, drug
            "D": [(16, 23, "event")],
        },
    )
    tokens, cats = token_table(item)
    assert [t.text for t in tokens] == ["anti", "TNF", "therapy", "started"]
    assert cats["A"] == ["event", "event", "event", None]
    assert cats["B"] == [None, "event", "event", None]
    assert cats["C"] == [None, "drug", None, None]
    assert cats["D"] == [None, None, None, "event"]


def test_reviewers_default_to_everyone_sorted_and_can_be_chosen() -> None:
    item = ReportLayers("r", R1, {"zoe": [ASPIRIN], "amy": [ASPIRIN], "bob": []})
    assert compute([item]).reviewers == ("amy", "bob", "zoe")
    chosen = compute([item], reviewers=["zoe", "amy", "nobody"])
    assert chosen.reviewers == ("zoe", "amy", "nobody")
    assert list(chosen.pairs) == [("zoe", "amy"), ("zoe", "nobody"), ("amy", "nobody")]
    assert chosen.counts["nobody"].reports == 0 and chosen.pair("amy", "nobody").reports == 0
    assert chosen.fleiss is None and chosen.fleiss_reports == 0  # nobody annotated nothing
    assert compute([item], reviewers=["amy"]).fleiss is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        compute(hand_items() + hand_items())
    with pytest.raises(ValueError, match="outside"):
        compute([ReportLayers("r", "short", {"A": [(2, 9, "drug")]})])


def test_the_matrix_is_symmetric_with_an_empty_diagonal() -> None:
    agreement = compute(hand_items())
    for figure in ("exact_f1", "overlap_f1", "kappa"):
        m = agreement.matrix(figure)
        assert [m[i][i] for i in range(3)] == [None, None, None]
        assert all(m[i][j] == m[j][i] for i in range(3) for j in range(3))
    assert close(agreement.matrix("kappa")[0][1], Fraction(49, 73))


# --- output -----------------------------------------------------------------------------------


def test_to_dict_is_json_without_nan_and_in_a_stable_order() -> None:
    empty = ReportLayers("r3", R2, {"A": [], "B": []})
    agreement = compute([*hand_items(), empty])
    data = agreement.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert text == json.dumps(compute([*hand_items(), empty]).to_dict(), allow_nan=False)
    assert list(data) == [
        "label",
        "reviewers",
        "labels",
        "report_count",
        "reviewer_counts",
        "pairs",
        "fleiss",
        "alpha",
        "matrix",
        "reports",
    ]
    first = data["pairs"][0]
    assert (first["a"], first["b"]) == ("A", "B")
    assert first["exact"]["overall"]["f1"] == pytest.approx(4 / 7)
    assert first["exact"]["per_label"]["drug"]["matched_a"] == 1
    assert data["fleiss"]["kappa"] == pytest.approx(119 / 143)
    assert data["matrix"]["kappa"][0][0] is None
    assert list(data["reports"]) == ["r1", "r2", "r3"]
    assert data["reports"]["r3"]["pairs"][0]["exact"]["overall"]["f1"] is None
    assert "reports" not in data["reports"]["r1"]


def test_markdown_holds_the_figures() -> None:
    md = render_markdown(compute(hand_items()))
    for figure in ("0.571", "0.857", "0.671", "0.832", "0.761", "0.742", "1.000", "n/a"):
        assert figure in md
    assert "| A | B | 2 | 4 | 3 | 0.571 | 0.857 | 0.671 |" in md
    assert "0.667 / 0.667" in md and "0.500 / 1.000" in md  # drug and event of A–B
    assert "Fleiss' κ: 0.832" in md and "Krippendorff's α (nominal): 0.761" in md
    assert "| r2 | A, B | 0.667 | n/a | n/a | 0.588 |" in md
    assert "3 reviewers" in md and "1 report annotated by every reviewer" in md


def test_markdown_never_passes_control_characters_through() -> None:
    evil = "ev\x1b[31mil\nname|x\u202e"
    item = ReportLayers("id\x07\r\nwith\x9bbreak", R1, {evil: [ASPIRIN], "B\x1b]0;pwn\x07": []})
    md = render_markdown(compute([item]))
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", md)
    assert "name\\|x" in md
    rows = [line for line in md.splitlines() if line.startswith("| id")]
    assert len(rows) == 1  # the id's line break did not split its table row


# --- generated cases, checked against independent implementations ----------------------------

WORDS = ["patient", "aspirin", "rash", "β-blocker", "5mg", "café", "IL-6", "nausea", "of", "a"]
WORDS += ["(", ")", ",", ".", "x"]
LABELS = ["drug", "event", "test", "diagnosis"]


def generated(seed: int) -> list[ReportLayers]:
    """2 to 4 reviewers over 1 to 6 reports: shared candidate spans (so there is agreement),
    some relabelled or moved, random spans with edges inside words or on spaces, duplicates
    and overlaps, empty layers, and reviewers missing from some reports."""
    rng = random.Random(seed)
    reviewers = [f"r{i}" for i in range(rng.randint(2, 4))]
    labels = LABELS[: rng.randint(1, 4)]
    items = []
    for k in range(rng.randint(1, 6)):
        text, words = "", []
        for _ in range(rng.randint(2, 25)):
            text += rng.choice(["", " ", " ", " ", "  ", "\n"]) if text else ""
            word = rng.choice(WORDS)
            words.append((len(text), len(text) + len(word)))
            text += word
        candidates = []
        for _ in range(rng.randint(0, 6)):
            i = rng.randrange(len(words))
            j = min(len(words) - 1, i + rng.choice([0, 0, 1, 2]))
            candidates.append((words[i][0], words[j][1], rng.choice(labels)))
        layers: dict[str, list[tuple[int, int, str]]] = {}
        for reviewer in reviewers:
            if rng.random() < 0.2:
                continue  # did not annotate this report
            spans = []
            for start, end, label in candidates:
                if rng.random() < 0.7:
                    if rng.random() < 0.15:
                        label = rng.choice(labels)
                    if rng.random() < 0.1:
                        start = rng.randrange(end)
                    spans.append((start, end, label))
            for _ in range(rng.choice([0, 0, 1, 2])):
                start = rng.randrange(len(text))
                end = rng.randint(start + 1, min(len(text), start + 12))
                spans.append((start, end, rng.choice(labels)))
            if spans and rng.random() < 0.1:
                spans.append(spans[0])  # the same span twice
            layers[reviewer] = spans
        items.append(ReportLayers(f"rep{k}", text, layers))
    return items


def reference_labels(text: str, layers: dict[str, list[tuple[int, int, str]]]) -> dict[str, list]:
    """Token categories per reviewer, built independently of the module: a token is a run of
    word characters or one other non-space character, cut at every span edge; its category is
    that of its first character under the winning span (first start, longest, label order)."""

    def is_word(ch: str) -> bool:
        return re.match(r"\w", ch) is not None

    cuts = {edge for spans in layers.values() for s, e, _ in spans for edge in (s, e)}
    firsts = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        prev = text[i - 1] if i else " "
        if prev.isspace() or i in cuts or not is_word(ch) or not is_word(prev):
            firsts.append(i)

    def category(spans: list[tuple[int, int, str]], at: int) -> str:
        covering = [s for s in spans if s[0] <= at < s[1]]
        return min(covering, key=lambda s: (s[0], -s[1], s[2]))[2] if covering else "O"

    return {r: [category(spans, at) for at in firsts] for r, spans in layers.items()}


def reference_spans(a: list, b: list) -> tuple[Counter, Counter]:
    """Exact and overlap counts per label the slow way: (label, 'a'|'b'|'ma'|'mb') -> n."""
    exact, overlap = Counter(), Counter()
    for label in {s[2] for s in a + b}:
        sa, sb = [s for s in a if s[2] == label], [s for s in b if s[2] == label]
        left = list(sb)
        tp = 0
        for span in sa:
            if span in left:
                left.remove(span)
                tp += 1
        exact.update({(label, "a"): len(sa), (label, "b"): len(sb)})
        exact.update({(label, "ma"): tp, (label, "mb"): tp})
        hits_a = sum(any(x[0] < y[1] and y[0] < x[1] for y in sb) for x in sa)
        hits_b = sum(any(x[0] < y[1] and y[0] < x[1] for y in sa) for x in sb)
        overlap.update({(label, "a"): len(sa), (label, "b"): len(sb)})
        overlap.update({(label, "ma"): hits_a, (label, "mb"): hits_b})
    return exact, overlap


SEEDS = range(40)


def quietly(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def same(mine: float | None, theirs: float) -> bool:
    if mine is None:
        return math.isnan(theirs)
    return mine == pytest.approx(float(theirs), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("label", [None, "drug"])
def test_cohen_kappa_matches_scikit_learn(seed: int, label: str | None) -> None:
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    items = generated(seed)
    agreement = compute(items, label=label)
    tables = [reference_labels(i.text, filtered(i.layers, label)) for i in items]
    for (a, b), pair in agreement.pairs.items():
        seq_a = [c for t in tables if a in t and b in t for c in t[a]]
        seq_b = [c for t in tables if a in t and b in t for c in t[b]]
        assert pair.tokens == len(seq_a)
        if not seq_a:
            assert pair.kappa is None
            continue
        assert same(pair.kappa, quietly(metrics.cohen_kappa_score, seq_a, seq_b)), (a, b)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    np = pytest.importorskip("numpy", reason="numpy is not installed")
    inter_rater = pytest.importorskip(
        "statsmodels.stats.inter_rater", reason="statsmodels is not installed"
    )
    items = generated(seed)
    agreement = compute(items)
    reviewers = agreement.reviewers
    tables = [reference_labels(i.text, i.layers) for i in items]
    if len(reviewers) < 2:  # a generated set where one reviewer, or nobody, annotated
        assert agreement.fleiss is None and agreement.fleiss_reports == 0
        return
    full = [t for t in tables if all(r in t for r in reviewers)]
    rows = [[t[r][k] for r in reviewers] for t in full for k in range(len(t[reviewers[0]]))]
    assert (agreement.fleiss_reports, agreement.fleiss_tokens) == (len(full), len(rows))
    if not rows:
        assert agreement.fleiss is None
        return
    codes = {c: n for n, c in enumerate(sorted({c for row in rows for c in row}))}
    table, _ = inter_rater.aggregate_raters(np.array([[codes[c] for c in row] for row in rows]))
    assert same(agreement.fleiss, quietly(inter_rater.fleiss_kappa, table, method="fleiss"))


@pytest.mark.parametrize("seed", SEEDS)
def test_krippendorff_alpha_matches_the_krippendorff_package(seed: int) -> None:
    np = pytest.importorskip("numpy", reason="numpy is not installed")
    krippendorff = pytest.importorskip("krippendorff", reason="krippendorff is not installed")
    items = generated(seed)
    agreement = compute(items)
    reviewers = agreement.reviewers
    tables = [reference_labels(i.text, i.layers) for i in items]
    units = [t for t in tables if len(t) >= 2]
    if not units:
        assert agreement.alpha is None and agreement.alpha_tokens == 0
        return
    codes = {
        c: float(n) for n, c in enumerate(sorted({c for t in units for s in t.values() for c in s}))
    }
    data = []
    for r in reviewers:
        row = []
        for t in units:
            length = len(next(iter(t.values())))
            row += [codes[c] for c in t[r]] if r in t else [np.nan] * length
        data.append(row)
    assert (agreement.alpha_reports, agreement.alpha_tokens) == (len(units), len(data[0]))
    if len(codes) < 2:  # the package refuses a single category; ours says undefined
        assert agreement.alpha is None
        return
    theirs = krippendorff.alpha(reliability_data=np.array(data), level_of_measurement="nominal")
    assert same(agreement.alpha, theirs)


@pytest.mark.parametrize("seed", SEEDS)
def test_span_counts_match_a_slow_reference(seed: int) -> None:
    items = generated(seed)
    agreement = compute(items)
    for (a, b), pair in agreement.pairs.items():
        exact, overlap = Counter(), Counter()
        for item in items:
            if a in item.layers and b in item.layers:
                e, o = reference_spans(item.layers[a], item.layers[b])
                exact += e
                overlap += o
        for label in agreement.labels:
            for mine, ref in ((pair.exact[label], exact), (pair.overlap[label], overlap)):
                got = (mine.a, mine.b, mine.matched_a, mine.matched_b)
                assert got == tuple(ref[(label, k)] for k in ("a", "b", "ma", "mb")), label


@pytest.mark.parametrize("seed", SEEDS)
def test_per_report_figures_are_compute_on_that_report_alone(seed: int) -> None:
    items = generated(seed)
    for label in (None, "event"):
        whole = compute(items, label=label)
        assert list(whole.reports) == [i.report_id for i in items]
        for item in items:
            alone = compute([item], reviewers=whole.reviewers, label=label)
            assert replace(alone, reports={}) == whole.reports[item.report_id]
        json.dumps(whole.to_dict(), allow_nan=False)
        assert "nan" not in render_markdown(whole).lower()


def filtered(layers: dict, label: str | None) -> dict:
    if label is None:
        return layers
    return {r: [s for s in spans if s[2] == label] for r, spans in layers.items()}


def test_markdown_gives_the_mean_pair_f1_per_report_beyond_three_pairs() -> None:
    # Four reviewers, six pairs: exact F1 1 for the three pairs among A, B, C and 0 for the
    # three with D, whose only span is another: the mean is 1/2.
    layers = {r: [ASPIRIN] for r in "ABC"} | {"D": [RASH]}
    md = render_markdown(compute([ReportLayers("only", R1, layers)]))
    assert "| report | annotated by | mean exact F1 | α |" in md
    assert "| only | A, B, C, D | 0.500 |" in md
