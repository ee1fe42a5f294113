"""Inter-annotator agreement: span F1, Cohen's and Fleiss' kappa and Krippendorff's alpha.

Several reviewers annotate the same reports; :func:`compute` says how far they agree, over the
whole set and report by report, and :func:`render_markdown` writes that up. Pure Python.

Definitions (a and b are two reviewers; only reports both annotated count for the pair):

* **Exact span F1**: a span of a matches a span of b when start, end and label are the same,
  one to one (identical spans of one reviewer count with multiplicity: multiset intersection).
  TP = matched pairs, precision = TP/|b|, recall = TP/|a|, F1 = 2TP/(|a|+|b|) (symmetric).
* **Overlap span F1**: two spans overlap when they have the same label and share at least one
  character (``a.start < b.end and b.start < a.end``). Recall = share of a's spans overlapping
  some span of b, precision = share of b's spans overlapping some span of a, F1 their harmonic
  mean (0 when either is 0).
* Per label, and overall as the micro sum over labels. Precision or recall with a zero
  denominator is None; F1 is None only when both reviewers have no span at all (nothing to
  agree on), and 0 when only one of them has spans.
* **Tokens**: ``core.tokens.tokenize`` of the report's text, with every edge of every span of
  the selected reviewers (after the label filter) as a boundary, so each span covers whole
  tokens; whitespace is not a token. A token's category for a reviewer is the label of their
  span covering it, or "O" (no label) when none. When several of one reviewer's spans cover a
  token, the span that starts first wins, then the longest, then the label first in
  alphabetical order.
* **Cohen's kappa** (pair, on the tokens of the reports both annotated):
  (p_o - p_e) / (1 - p_e) with p_e from each reviewer's own category frequencies.
* **Fleiss' kappa** (all selected reviewers, on the tokens of the reports every one of them
  annotated; None with fewer than two reviewers or no such report).
* **Krippendorff's alpha**, nominal, from the coincidence matrix: the units are the tokens of
  every report at least two of the selected reviewers annotated; a reviewer who did not
  annotate a report is missing data for its tokens. alpha = 1 - (n-1) * sum_{c!=k} o_ck /
  sum_{c!=k} n_c n_k.

A kappa or alpha whose expected disagreement is 0 (a single category everywhere, e.g. nobody
tagged anything) or with no tokens is None, never NaN. Every figure is computed from integer
counts with exact fractions and converted to float at the end, so the same counts always give
the same float.
"""

from __future__ import annotations

import bisect
import operator
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from itertools import accumulate, combinations
from typing import Any

from reviewer.core.text import one_line
from reviewer.core.tokens import Token, tokenize

Span = tuple[int, int, str]


@dataclass(frozen=True)
class ReportLayers:
    """One report's annotations by the reviewers who annotated it.

    ``layers`` maps a reviewer to their spans ``(start, end, label)``: code-point offsets into
    ``text``, end exclusive. A reviewer present with an empty list annotated the report and
    found nothing; a reviewer absent did not annotate it.
    """

    report_id: str
    text: str
    layers: dict[str, list[tuple[int, int, str]]]


def _ratio(num: int, den: int) -> float | None:
    """``num / den`` (integer division is correctly rounded), None when ``den`` is 0."""
    return None if den == 0 else num / den


@dataclass(frozen=True)
class SpanScore:
    """Span counts of a pair (a, b) and the scores they give.

    ``a`` and ``b`` count each reviewer's spans; ``matched_a`` is how many of a's spans are
    matched (the recall numerator) and ``matched_b`` how many of b's (the precision
    numerator). For exact matching both equal TP, the number of one-to-one matched pairs.
    """

    a: int = 0
    b: int = 0
    matched_a: int = 0
    matched_b: int = 0

    def __add__(self, other: SpanScore) -> SpanScore:
        return SpanScore(
            self.a + other.a,
            self.b + other.b,
            self.matched_a + other.matched_a,
            self.matched_b + other.matched_b,
        )

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched_b, self.b)

    @property
    def recall(self) -> float | None:
        return _ratio(self.matched_a, self.a)

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (2TP/(|a|+|b|) for exact matching); None
        when neither reviewer has a span, 0 when either score is 0 or undefined."""
        if self.a + self.b == 0:
            return None
        ma, mb = self.matched_a, self.matched_b
        if ma == 0 or mb == 0:
            return 0.0
        return 2 * ma * mb / (mb * self.a + ma * self.b)  # 2PR/(P+R), P = mb/b, R = ma/a

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "matched_a": self.matched_a,
            "matched_b": self.matched_b,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def _micro(scores: dict[str, SpanScore]) -> SpanScore:
    return sum(scores.values(), SpanScore())


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of reviewers ``a`` and ``b`` over the ``reports`` both annotated.

    ``exact`` and ``overlap`` hold a :class:`SpanScore` per label (every label of the set, even
    one neither of them used); ``exact_total`` and ``overlap_total`` are their micro sums.
    ``kappa`` is Cohen's kappa over ``tokens`` tokens.
    """

    a: str
    b: str
    reports: int
    tokens: int
    exact: dict[str, SpanScore]
    overlap: dict[str, SpanScore]
    kappa: float | None

    @property
    def exact_total(self) -> SpanScore:
        return _micro(self.exact)

    @property
    def overlap_total(self) -> SpanScore:
        return _micro(self.overlap)

    def to_dict(self) -> dict[str, Any]:
        def scores(per_label: dict[str, SpanScore]) -> dict[str, Any]:
            return {
                "overall": _micro(per_label).to_dict(),
                "per_label": {name: s.to_dict() for name, s in per_label.items()},
            }

        return {
            "a": self.a,
            "b": self.b,
            "reports": self.reports,
            "tokens": self.tokens,
            "exact": scores(self.exact),
            "overlap": scores(self.overlap),
            "kappa": self.kappa,
        }


@dataclass(frozen=True)
class ReviewerCount:
    """How many reports a reviewer annotated, and how many spans (after the label filter)."""

    reports: int
    spans: int


@dataclass(frozen=True)
class Agreement:
    """Every figure for one set of reports (see the module docstring for the definitions).

    ``pairs`` is keyed by ``(a, b)`` with a before b in ``reviewers``; ``reports`` maps each
    report id (in input order) to the same figures computed on that report alone, whose own
    ``reports`` is empty. ``fleiss_reports`` counts the reports annotated by every selected
    reviewer, ``alpha_reports`` those annotated by at least two.
    """

    reviewers: tuple[str, ...]
    label: str | None
    labels: tuple[str, ...]
    report_count: int
    counts: dict[str, ReviewerCount]
    pairs: dict[tuple[str, str], PairAgreement]
    fleiss: float | None
    fleiss_reports: int
    fleiss_tokens: int
    alpha: float | None
    alpha_reports: int
    alpha_tokens: int
    reports: dict[str, Agreement] = field(default_factory=dict)

    def pair(self, a: str, b: str) -> PairAgreement:
        """The pair's figures, in either order (all of them are symmetric)."""
        return self.pairs[(a, b)] if (a, b) in self.pairs else self.pairs[(b, a)]

    def matrix(self, figure: str) -> list[list[float | None]]:
        """Rows and columns in ``reviewers`` order of ``figure`` ("exact_f1", "overlap_f1" or
        "kappa"); the diagonal is None."""
        get = {
            "exact_f1": lambda p: p.exact_total.f1,
            "overlap_f1": lambda p: p.overlap_total.f1,
            "kappa": lambda p: p.kappa,
        }[figure]
        return [
            [None if a == b else get(self.pair(a, b)) for b in self.reviewers]
            for a in self.reviewers
        ]

    def to_dict(self, *, per_report: bool = True) -> dict[str, Any]:
        """JSON-ready: floats or None (never NaN), keys in a fixed order; ``per_report=False``
        leaves out the "reports" key (each report's own figures, in input order)."""
        out: dict[str, Any] = {
            "label": self.label,
            "reviewers": list(self.reviewers),
            "labels": list(self.labels),
            "report_count": self.report_count,
            "reviewer_counts": {
                r: {"reports": c.reports, "spans": c.spans} for r, c in self.counts.items()
            },
            "pairs": [p.to_dict() for p in self.pairs.values()],
            "fleiss": {
                "kappa": self.fleiss,
                "reports": self.fleiss_reports,
                "tokens": self.fleiss_tokens,
            },
            "alpha": {
                "alpha": self.alpha,
                "reports": self.alpha_reports,
                "tokens": self.alpha_tokens,
            },
            "matrix": {
                "reviewers": list(self.reviewers),
                **{f: self.matrix(f) for f in ("exact_f1", "overlap_f1", "kappa")},
            },
        }
        if per_report:
            out["reports"] = {r: a.to_dict(per_report=False) for r, a in self.reports.items()}
        return out


# --- tokens -----------------------------------------------------------------------------------


def _categories(tokens: list[Token], spans: Iterable[Span]) -> list[str | None]:
    """Each token's label under ``spans`` (None for "O"), by the priority in the module doc."""
    starts = [t.start for t in tokens]
    cats: list[str | None] = [None] * len(tokens)
    # Paint the lowest priority first, so the winner is painted last.
    for start, end, name in sorted(spans, key=lambda s: (s[0], -s[1], s[2]), reverse=True):
        i, j = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
        cats[i:j] = [name] * (j - i)
    return cats


def _selected(
    item: ReportLayers, reviewers: Sequence[str], label: str | None
) -> dict[str, list[Span]]:
    """The spans of the selected reviewers who annotated ``item``, filtered by ``label``."""
    out: dict[str, list[Span]] = {}
    for reviewer in reviewers:
        if reviewer not in item.layers:
            continue
        spans = [tuple(s) for s in item.layers[reviewer] if label is None or s[2] == label]
        for start, end, _ in spans:
            if not (isinstance(start, int) and isinstance(end, int)) or not (
                0 <= start < end <= len(item.text)
            ):
                raise ValueError(
                    f"report {item.report_id!r}: span {start}-{end} of {reviewer!r} is outside "
                    f"the text (0-{len(item.text)}) or empty"
                )
        out[reviewer] = spans  # type: ignore[assignment]
    return out


def token_table(
    item: ReportLayers, reviewers: Sequence[str] | None = None, label: str | None = None
) -> tuple[list[Token], dict[str, list[str | None]]]:
    """The report's tokens and each annotating reviewer's category per token (None is "O"),
    as Cohen's and Fleiss' kappa and alpha see them."""
    layers = _selected(item, sorted(item.layers) if reviewers is None else reviewers, label)
    return _token_table(item.text, layers)


def _token_table(
    text: str, layers: dict[str, list[Span]]
) -> tuple[list[Token], dict[str, list[str | None]]]:
    edges = {edge for spans in layers.values() for s in spans for edge in s[:2]}
    tokens = tokenize(text, edges)
    return tokens, {r: _categories(tokens, spans) for r, spans in layers.items()}


# --- counting ---------------------------------------------------------------------------------


def _overlapping(spans: list[tuple[int, int]], others: list[tuple[int, int]]) -> int:
    """How many of ``spans`` share a character with at least one of ``others``."""
    if not spans or not others:
        return 0
    others = sorted(others)
    starts = [s for s, _ in others]
    reach = list(accumulate((e for _, e in others), max))  # furthest end among the first k
    count = 0
    for start, end in spans:
        k = bisect.bisect_left(starts, end)  # the others starting before this span ends
        count += bool(k and reach[k - 1] > start)
    return count


def _span_scores(a: list[Span], b: list[Span]) -> tuple[dict[str, SpanScore], dict[str, SpanScore]]:
    """Exact and overlap :class:`SpanScore` per label for one report."""
    exact: dict[str, SpanScore] = {}
    overlap: dict[str, SpanScore] = {}
    common = Counter(a) & Counter(b)
    for name in {s[2] for s in a} | {s[2] for s in b}:
        pa = [(s, e) for s, e, lab in a if lab == name]
        pb = [(s, e) for s, e, lab in b if lab == name]
        tp = sum(n for span, n in common.items() if span[2] == name)
        exact[name] = SpanScore(len(pa), len(pb), tp, tp)
        overlap[name] = SpanScore(len(pa), len(pb), _overlapping(pa, pb), _overlapping(pb, pa))
    return exact, overlap


@dataclass
class _PairTally:
    reports: int = 0
    exact: dict[str, SpanScore] = field(default_factory=dict)
    overlap: dict[str, SpanScore] = field(default_factory=dict)
    tokens: int = 0
    agree: int = 0
    cats_a: Counter[str | None] = field(default_factory=Counter)
    cats_b: Counter[str | None] = field(default_factory=Counter)


@dataclass
class _Tally:
    """The integer counts behind every figure; tallies of reports add up to the set's."""

    reports: int = 0
    labels: set[str] = field(default_factory=set)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (reviewer, what)
    pairs: dict[tuple[str, str], _PairTally] = field(default_factory=dict)
    fleiss_reports: int = 0
    fleiss_tokens: int = 0
    fleiss_squares: int = 0  # sum over tokens and categories of n_ij ** 2
    fleiss_totals: Counter[str | None] = field(default_factory=Counter)
    alpha_reports: int = 0
    alpha_tokens: int = 0
    alpha_same: Counter[int] = field(default_factory=Counter)  # m_u -> sum of n_uc (n_uc - 1)
    alpha_totals: Counter[str | None] = field(default_factory=Counter)


def _add(mine: _Tally | _PairTally, theirs: _Tally | _PairTally) -> None:
    """Add the counts of ``theirs`` to ``mine``, field by field."""
    for f in fields(mine):
        x, y = getattr(mine, f.name), getattr(theirs, f.name)
        if isinstance(x, set):
            x |= y
        elif isinstance(x, Counter):
            x.update(y)  # adds the counts
        elif isinstance(x, dict):  # pairs, or SpanScores per label
            for key, value in y.items():
                if isinstance(value, SpanScore):
                    x[key] = x.get(key, SpanScore()) + value
                else:
                    _add(x.setdefault(key, _PairTally()), value)
        else:
            setattr(mine, f.name, x + y)


def _tally(item: ReportLayers, reviewers: Sequence[str], label: str | None) -> _Tally:
    layers = _selected(item, reviewers, label)
    tokens, cats = _token_table(item.text, layers)
    t = _Tally(reports=1, labels={s[2] for spans in layers.values() for s in spans})
    for reviewer, spans in layers.items():
        t.counts[(reviewer, "reports")] += 1
        t.counts[(reviewer, "spans")] += len(spans)
    for a, b in combinations(reviewers, 2):
        pair = t.pairs[(a, b)] = _PairTally()
        if a in layers and b in layers:
            pair.reports = 1
            pair.exact, pair.overlap = _span_scores(layers[a], layers[b])
            pair.tokens = len(tokens)
            pair.agree = sum(map(operator.eq, cats[a], cats[b]))
            pair.cats_a, pair.cats_b = Counter(cats[a]), Counter(cats[b])
    if len(layers) >= 2:
        t.alpha_reports, t.alpha_tokens = 1, len(tokens)
        squares = 0
        # Tokens given the same categories by every reviewer count alike: count those once.
        for row, times in Counter(zip(*cats.values(), strict=True)).items():
            per_category = Counter(row).values()
            t.alpha_same[len(layers)] += times * sum(n * (n - 1) for n in per_category)
            squares += times * sum(n * n for n in per_category)
            for category in row:
                t.alpha_totals[category] += times
        if len(layers) == len(reviewers):
            t.fleiss_reports, t.fleiss_tokens = 1, len(tokens)
            t.fleiss_squares, t.fleiss_totals = squares, Counter(t.alpha_totals)
    return t


def _cohen(p: _PairTally) -> float | None:
    n = p.tokens
    chance = sum(p.cats_a[c] * p.cats_b[c] for c in p.cats_a)  # p_e * n ** 2
    if n == 0 or chance == n * n:
        return None
    return (n * p.agree - chance) / (n * n - chance)


def _fleiss(t: _Tally, m: int) -> float | None:
    if m < 2 or t.fleiss_tokens == 0:
        return None
    values = t.fleiss_tokens * m
    p_mean = Fraction(t.fleiss_squares - values, values * (m - 1))
    p_exp = Fraction(sum(n * n for n in t.fleiss_totals.values()), values * values)
    return None if p_exp == 1 else float((p_mean - p_exp) / (1 - p_exp))


def _alpha(t: _Tally) -> float | None:
    n = sum(t.alpha_totals.values())  # pairable values
    expected = n * n - sum(v * v for v in t.alpha_totals.values())  # sum_{c!=k} n_c n_k
    if n < 2 or expected == 0:
        return None
    same = sum(Fraction(total, m - 1) for m, total in t.alpha_same.items())  # sum_c o_cc
    return float(1 - (n - 1) * (n - same) / expected)


def _finish(t: _Tally, reviewers: tuple[str, ...], label: str | None) -> Agreement:
    labels = (label,) if label is not None else tuple(sorted(t.labels))
    pairs = {
        (a, b): PairAgreement(
            a,
            b,
            p.reports,
            p.tokens,
            {name: p.exact.get(name, SpanScore()) for name in labels},
            {name: p.overlap.get(name, SpanScore()) for name in labels},
            _cohen(p),
        )
        for (a, b), p in t.pairs.items()
    }
    counts = {r: ReviewerCount(t.counts[(r, "reports")], t.counts[(r, "spans")]) for r in reviewers}
    return Agreement(
        reviewers, label, labels, t.reports, counts, pairs,
        _fleiss(t, len(reviewers)), t.fleiss_reports, t.fleiss_tokens,
        _alpha(t), t.alpha_reports, t.alpha_tokens,
    )  # fmt: skip


def compute(
    items: Iterable[ReportLayers],
    *,
    reviewers: Sequence[str] | None = None,
    label: str | None = None,
) -> Agreement:
    """Agreement over ``items`` and per report.

    ``reviewers`` selects whose annotations count, in that order (None: every reviewer in the
    items, sorted); ``label`` restricts everything to that label (spans of other labels are
    ignored, and tokens become that label or "O"). A report id given twice, or a span outside
    its text, is a ValueError.
    """
    items = list(items)
    chosen = tuple(
        dict.fromkeys(
            reviewers if reviewers is not None else sorted({r for i in items for r in i.layers})
        )
    )
    whole = _Tally()
    for a, b in combinations(chosen, 2):
        whole.pairs[(a, b)] = _PairTally()
    per_report: dict[str, Agreement] = {}
    for item in items:
        if item.report_id in per_report:
            raise ValueError(f"report {item.report_id!r} is given twice")
        t = _tally(item, chosen, label)
        per_report[item.report_id] = _finish(t, chosen, label)
        _add(whole, t)
    result = _finish(whole, chosen, label)
    return replace(result, reports=per_report)


# --- Markdown ---------------------------------------------------------------------------------


def _md(name: str) -> str:
    """A name or id safe in a Markdown table on a terminal: controls and line breaks replaced,
    invisible format characters (bidi overrides) shown as U+FFFD, pipes escaped."""
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cf" else c for c in one_line(name))
    return shown.replace("|", "\\|")


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_markdown(agreement: Agreement) -> str:
    """A short Markdown report of ``agreement``: figures with 3 decimals, "n/a" where a figure
    is undefined (no span or no token to agree on, or a single category).

    Reviewer names, labels and report ids are shown on one line with control characters and
    invisible format characters replaced (see :func:`_md`). The per-report table gives each
    pair's exact F1 with up to three pairs, and their mean (over the pairs with a value) beyond.
    """
    ag = agreement
    names = {r: _md(r) for r in ag.reviewers}
    scope = f"label {_md(ag.label)}" if ag.label is not None else "all labels"
    out = [
        "# Inter-annotator agreement",
        "",
        f"{_count(ag.report_count, 'report')}, {scope}; {ag.alpha_reports} annotated by at least "
        f"two of the {_count(len(ag.reviewers), 'reviewer')}, {ag.fleiss_reports} by all of them.",
        "",
    ]
    out += [
        f"- {names[r]}: {_count(c.reports, 'report')}, {_count(c.spans, 'span')}"
        for r, c in ag.counts.items()
    ]
    pairs = list(ag.pairs.values())
    if pairs:
        out += ["", "## Pairs", ""]
        out += _table(
            ["reviewer A", "reviewer B", "reports", "spans A", "spans B", "exact F1",
             "overlap F1", "Cohen's κ"],
            [
                [names[p.a], names[p.b], str(p.reports), str(p.exact_total.a), str(p.exact_total.b),
                 _num(p.exact_total.f1), _num(p.overlap_total.f1), _num(p.kappa)]
                for p in pairs
            ],
        )  # fmt: skip
        out += ["", "## Span F1 per label (exact / overlap)", ""]
        out += _table(
            ["reviewer A", "reviewer B", *(_md(name) for name in ag.labels)],
            [
                [names[p.a], names[p.b]]
                + [f"{_num(p.exact[n].f1)} / {_num(p.overlap[n].f1)}" for n in ag.labels]
                for p in pairs
            ],
        )
    out += [
        "",
        "## All reviewers",
        "",
        f"- Fleiss' κ: {_num(ag.fleiss)} ({_count(ag.fleiss_tokens, 'token')} of "
        f"{_count(ag.fleiss_reports, 'report')} annotated by every reviewer)",
        f"- Krippendorff's α (nominal): {_num(ag.alpha)} ({_count(ag.alpha_tokens, 'token')} of "
        f"{_count(ag.alpha_reports, 'report')} annotated by at least two)",
    ]
    if pairs:
        cells = [ag.matrix(f) for f in ("exact_f1", "overlap_f1", "kappa")]
        out += ["", "## Matrix (exact F1 / overlap F1 / κ)", ""]
        out += _table(
            ["", *names.values()],
            [
                [names[a]]
                + ["—" if a == b else " / ".join(_num(m[i][j]) for m in cells)
                   for j, b in enumerate(ag.reviewers)]
                for i, a in enumerate(ag.reviewers)
            ],
        )  # fmt: skip
    if ag.reports and pairs:
        each = len(pairs) <= 3
        header = [f"{names[p.a]}–{names[p.b]}" for p in pairs] if each else ["mean exact F1"]
        rows = []
        for rid, rep in ag.reports.items():
            f1s = [p.exact_total.f1 for p in rep.pairs.values()]
            known = [f for f in f1s if f is not None]
            shown = f1s if each else [sum(known) / len(known) if known else None]
            who = ", ".join(names[r] for r in ag.reviewers if rep.counts[r].reports)
            rows.append([_md(rid), who or "none", *map(_num, shown), _num(rep.alpha)])
        out += ["", "## Per report (exact F1)", ""]
        out += _table(["report", "annotated by", *header, "α"], rows)
    return "\n".join(out) + "\n"
