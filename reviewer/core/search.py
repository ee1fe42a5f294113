"""Fuzzy search over annotated spans, and over report text.

Span search matches the query against the *distinct* span texts (folded for case, punctuation
and spacing), so 200,000 spans that say "dupilumab" 3,000 times cost one comparison; each hit is
a group with its label, occurrences, reviewers and reports. Text search finds the query in the
reports themselves (the trigram index for 3+ characters, a scan for shorter ones) and, for a
typo, the report words that resemble it; each hit says whether a span already covers it.

Queries may hold filters: ``label:drug``, ``reviewer:NAME``, ``status:done`` (the span's
reviewer's status for the report), combinable with free text. Pure Python: no textual, no rich.
"""

from __future__ import annotations

import bisect
import heapq
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import NamedTuple

from rapidfuzz import fuzz, process

from reviewer.core.model import ReviewerError, Span, Status, parse_status
from reviewer.core.rows import no_cyclic_gc
from reviewer.core.store import Cancelled
from reviewer.core.text import find_all

FILTERS = ("label", "reviewer", "status")
# Below this length a query is a prefix or exact match only: fuzzy scores of one or two
# characters match half the corpus.
SHORT = 3
MIN_SCORE = 60.0

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """The form span texts are grouped and compared by: case folded, accents kept, every run
    of punctuation or white space one space (``Anti-dsDNA`` and ``anti dsDNA`` are one)."""
    return _PUNCT.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


@dataclass(frozen=True)
class Query:
    """A parsed query: free text and filters."""

    text: str
    label: str | None = None
    reviewer: str | None = None
    status: Status | None = None

    @property
    def has_filters(self) -> bool:
        return any(v is not None for v in (self.label, self.reviewer, self.status))


def parse_query(raw: str, labels: Iterable[str] = ()) -> Query:
    """Split ``label:drug reviewer:ana dupilumab`` into filters and text. An unknown filter,
    label or status is an error that says what is known."""
    words: list[str] = []
    found: dict[str, str] = {}
    known_labels = {name.casefold(): name for name in labels}
    for word in raw.split():
        name, sep, value = word.partition(":")
        if sep and name.isalpha() and value and name.lower() not in FILTERS:
            raise ReviewerError(
                f"unknown filter {name!r}: use {', '.join(f + ':' for f in FILTERS)}"
            )
        if sep and name.lower() in FILTERS:
            if not value:
                raise ReviewerError(
                    f"{name}: needs a value, as in {name}:{_EXAMPLES[name.lower()]}"
                )
            found[name.lower()] = value
        else:
            words.append(word)
    label = found.get("label")
    if label is not None and known_labels:
        if label.casefold() not in known_labels:
            raise ReviewerError(
                f"unknown label {label!r}: use one of {', '.join(sorted(known_labels.values()))}"
            )
        label = known_labels[label.casefold()]
    status = None
    if "status" in found:
        status = parse_status(found["status"].lower().replace("-", "_"))
    return Query(" ".join(words), label, found.get("reviewer"), status)


_EXAMPLES = {"label": "drug", "reviewer": "alice", "status": "done"}


class SpanRef(NamedTuple):
    """A span as the index hands it out (a ``Span`` also has these fields). Inside, the index
    keeps the same fields as plain tuples, as SQLite gives them: making 200,000 of these
    costs more than the rest of the build."""

    id: str
    report_id: str
    start: int
    end: int
    label: str
    text: str
    reviewer: str


Row = tuple  # (id, report_id, start, end, label, text, reviewer): a SpanRef's fields, in order

_ID, _REPORT, _LABEL, _TEXT, _REVIEWER = (
    itemgetter(SpanRef._fields.index(name))
    for name in ("id", "report_id", "label", "text", "reviewer")
)
_IN_REPORT_ORDER = itemgetter(
    *(SpanRef._fields.index(name) for name in ("report_id", "start", "reviewer"))
)


def _row(span: Span | SpanRef) -> Row:
    if isinstance(span, tuple):
        return span
    return (span.id, span.report_id, span.start, span.end, span.label, span.text, span.reviewer)


def _refs(rows: Iterable[Row]) -> Iterator[SpanRef]:
    return map(tuple.__new__, repeat(SpanRef), rows)


try:  # the C helper Counter.update uses (CPython's, since 3.2)
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: what collections itself falls back on

    def _count_elements(mapping: dict, iterable: Iterable) -> None:
        for element in iterable:
            mapping[element] = mapping.get(element, 0) + 1


def _counted(values: Iterable[str]) -> Counter[str]:
    """``Counter(values)`` without its generic ``__init__`` and ``update`` (their checks cost
    more than counting a group's few values; an index build makes 60,000 of these): an empty
    Counter is an empty dict, filled by the C helper ``update`` itself uses."""
    counter: Counter[str] = Counter.__new__(Counter)
    _count_elements(counter, values)
    return counter


@dataclass
class Group:
    """The spans whose text folds to one key, with running counts (kept as spans come and
    go, so that a hit on a group of 40,000 spans costs no more than one on a group of 4)."""

    key: str
    spans: dict[str, Row] = field(default_factory=dict)  # span id -> its fields
    labels: Counter[str] = field(default_factory=Counter)
    reviewers: Counter[str] = field(default_factory=Counter)
    reports: Counter[str] = field(default_factory=Counter)
    spellings: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, key: str, spellings: list[tuple[str, list[Row]]]) -> Group:
        """A group made at once from its spellings, each with its spans (counted in C: one
        update per span would cost several times more)."""
        rows = spellings[0][1] if len(spellings) == 1 else [r for _, rs in spellings for r in rs]
        return cls(
            key,
            dict(zip(map(_ID, rows), rows, strict=True)),
            _counted(map(_LABEL, rows)),
            _counted(map(_REVIEWER, rows)),
            _counted(map(_REPORT, rows)),
            Counter({text: len(rs) for text, rs in spellings}),
        )

    def add(self, row: Row) -> bool:
        """Add or replace a span; ``True`` if it was not here."""
        replaced = self.remove(row[0])
        self.spans[row[0]] = row
        self._count(row, 1)
        return not replaced

    def remove(self, span_id: str) -> bool:
        row = self.spans.pop(span_id, None)
        if row is None:
            return False
        self._count(row, -1)
        return True

    def _count(self, row: Row, n: int) -> None:
        for counter, value in (
            (self.labels, _LABEL(row)),
            (self.reviewers, _REVIEWER(row)),
            (self.reports, _REPORT(row)),
            (self.spellings, _TEXT(row)),
        ):
            counter[value] += n
            if counter[value] <= 0:
                del counter[value]

    @property
    def text(self) -> str:
        """The most frequent spelling."""
        return self.spellings.most_common(1)[0][0]


class SpanHit:
    """A group of spans that matched: its counts, and its spans (those that passed the
    filters) in report order, sorted only when asked for."""

    def __init__(
        self, group: Group, score: float, chosen: list[Row] | list[SpanRef] | None = None
    ) -> None:
        self.key = group.key
        self.score = score
        self._group = group
        self._chosen = chosen  # None: every span of the group
        self._sorted: tuple[SpanRef, ...] | None = None
        if chosen is None:
            self.text = group.text
            self.labels = Counter(group.labels)
            self._reviewers: Iterable[str] = group.reviewers
            self._reports: Iterable[str] = group.reports
            self.report_count = len(group.reports)
            self.count = len(group.spans)
        else:
            self.text = Counter(map(_TEXT, chosen)).most_common(1)[0][0]
            self.labels = Counter(map(_LABEL, chosen))
            self._reviewers = set(map(_REVIEWER, chosen))
            self._reports = set(map(_REPORT, chosen))
            self.report_count = len(self._reports)
            self.count = len(chosen)

    @property
    def reviewers(self) -> list[str]:
        return sorted(self._reviewers)

    @property
    def reports(self) -> list[str]:
        """The reports, sorted (when asked: a group can span 100,000 reports)."""
        return sorted(self._reports)

    def _rows(self) -> Iterable[Row]:
        return self._chosen if self._chosen is not None else self._group.spans.values()

    def first(self, n: int) -> list[SpanRef]:
        """The first ``n`` spans in report order, without sorting a large group whole."""
        if self._sorted is not None or self.count <= n:
            return list(self.spans[:n])
        return list(_refs(heapq.nsmallest(n, self._rows(), key=_IN_REPORT_ORDER)))

    @property
    def spans(self) -> tuple[SpanRef, ...]:
        if self._sorted is None:
            self._sorted = tuple(_refs(sorted(self._rows(), key=_IN_REPORT_ORDER)))
        return self._sorted


class SpanIndex:
    """Distinct span texts with their spans; built once, updated in place on each change."""

    def __init__(
        self, spans: Iterable[Span | SpanRef | Row] = (), statuses: dict | None = None
    ) -> None:
        self._groups: dict[str, Group] = {}
        self._keys: list[str] = []  # choices for rapidfuzz; a key whose group empties stays
        self._empty = 0  # keys whose group is empty
        self._size = 0  # spans
        # (report id, reviewer) -> status, for status: filters
        self.statuses: dict[tuple[str, str], Status] = dict(statuses or {})
        self._bulk(map(_row, spans))

    @classmethod
    def of_rows(cls, rows: Iterable[Row], statuses: dict | None = None) -> SpanIndex:
        """An index of spans given as rows of their fields, best in text order (as
        ``index_store`` reads them)."""
        index = cls((), statuses)
        index._bulk(rows)
        return index

    def _bulk(self, rows: Iterable[Row]) -> None:
        """Build from many spans at once: they are grouped by their exact text first, each
        distinct text folded once, and each group counted in one go. Rows in text order
        (as ``index_store`` reads them) are grouped in C; span ids are unique, as in the
        store."""
        by_text: dict[str, list[Row]] = {}
        for text, rows_of in groupby(rows, _TEXT):
            members = by_text.get(text)
            if members is None:
                by_text[text] = list(rows_of)
            else:  # not in text order
                members.extend(rows_of)
        grouped: dict[str, list[tuple[str, list[Row]]]] = {}
        for text, members in by_text.items():
            key = fold(text)
            if key:
                grouped.setdefault(key, []).append((text, members))
        for key, spellings in grouped.items():
            group = self._groups[key] = Group.of(key, spellings)
            self._keys.append(key)
            self._size += len(group.spans)

    def __len__(self) -> int:
        return self._size

    @property
    def distinct(self) -> int:
        return len(self._keys) - self._empty

    # --- keeping it current -------------------------------------------------------------------

    def add(self, span: Span | SpanRef) -> None:
        """Index a span (one already indexed under another text is removed first by
        ``apply``, which knows its text before the change)."""
        key = fold(span.text)
        if not key:
            return
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(key)
            self._keys.append(key)
        elif not group.spans:
            self._empty -= 1
        if group.add(_row(span)):
            self._size += 1

    def remove(self, span: Span | SpanRef) -> None:
        group = self._groups.get(fold(span.text))
        if group is not None and group.remove(span.id):
            self._size -= 1
            if not group.spans:
                self._empty += 1

    def apply(self, before: Span | None, after: Span | None) -> None:
        """One change from the store's log: a span added, changed or removed."""
        if before is not None:
            self.remove(before)
        if after is not None:
            self.add(after)

    def set_status(self, report_id: str, reviewer: str, status: Status) -> None:
        self.statuses[(report_id, reviewer)] = status

    # --- searching ----------------------------------------------------------------------------

    def _passes(self, row: Row, query: Query) -> bool:
        if query.label is not None and _LABEL(row) != query.label:
            return False
        if query.reviewer is not None and _REVIEWER(row) != query.reviewer:
            return False
        if query.status is not None:
            status = self.statuses.get((_REPORT(row), _REVIEWER(row)), Status.TODO)
            if status is not query.status:
                return False
        return True

    def _hit(self, key: str, score: float, query: Query) -> SpanHit | None:
        group = self._groups[key]
        if not group.spans:
            return None
        if not query.has_filters:
            return SpanHit(group, score)
        chosen = [s for s in group.spans.values() if self._passes(s, query)]
        return SpanHit(group, score, chosen) if chosen else None

    def search(self, raw: str | Query, limit: int = 50) -> list[SpanHit]:
        """Groups best first. A query of one or two characters matches span texts that start
        with it (or a word of them that does); longer ones are typo-tolerant. A query of
        filters alone lists what they select, most frequent first."""
        query = raw if isinstance(raw, Query) else parse_query(raw)
        needle = fold(query.text)
        keys = self._keys
        if query.has_filters:
            keys = [
                k
                for k in keys
                if any(self._passes(s, query) for s in self._groups[k].spans.values())
            ]
        else:
            keys = [k for k in keys if self._groups[k].spans] if self._empty else keys
        if not needle:  # filters alone: what they select, most frequent first

            def selected(key: str) -> int:
                return sum(1 for s in self._groups[key].spans.values() if self._passes(s, query))

            scored = [(k, 100.0) for k in sorted(keys, key=lambda k: -selected(k))]
        elif len(needle) < SHORT:
            scored = _prefix(needle, keys)
        else:
            scored = _fuzzy(needle, keys, limit * 2)
        hits: list[SpanHit] = []
        for key, score in scored:
            hit = self._hit(key, score, query)
            if hit is not None:
                hits.append(hit)
                if len(hits) >= limit:
                    break
        return hits


def _prefix(needle: str, keys: list[str]) -> list[tuple[str, float]]:
    """Keys starting with the needle, then keys with a word starting with it; shortest first."""
    first = [k for k in keys if k.startswith(needle)]
    inner = [k for k in keys if not k.startswith(needle) and f" {needle}" in k]
    first.sort(key=len)
    inner.sort(key=len)
    return [(k, 100.0) for k in first] + [(k, 90.0) for k in inner]


def _fuzzy(needle: str, keys: list[str], limit: int) -> list[tuple[str, float]]:
    """Typo-tolerant ranking: whole-string similarity, with a boost for keys that hold the
    query as a prefix or as a whole word, so that "dupi" finds "dupilumab" as you type."""
    found = process.extract(needle, keys, scorer=fuzz.ratio, limit=limit, score_cutoff=MIN_SCORE)
    scores = {keys[i]: score for _, score, i in found}
    for key in keys:
        if key.startswith(needle) or f" {needle}" in key:
            # A prefix outranks a typo of equal length, and a longer completion ranks lower.
            scores[key] = max(scores.get(key, 0.0), 99.0 - min(len(key) - len(needle), 30) / 3)
    return sorted(scores.items(), key=lambda kv: (-kv[1], len(kv[0])))


# --- text search ---------------------------------------------------------------------------------

_WORD = re.compile(r"\w[\w'-]*\w|\w", re.UNICODE)
TYPO_SCORE = 80.0  # how close a report word must be to a typo'd query word to be searched too
_LOOK = 200  # reports searched for whole words once enough parts of words are found


@dataclass(frozen=True)
class TextHit:
    """The query found in a report's text, and the spans already there."""

    report_id: str
    start: int
    end: int
    text: str
    score: float
    spans: tuple[Span, ...] = ()

    def tagged_by(self, reviewer: str) -> bool:
        """Whether ``reviewer`` already has a span on exactly these offsets."""
        return any(
            s.reviewer == reviewer and (s.start, s.end) == (self.start, self.end)
            for s in self.spans
        )


class Vocabulary:
    """The distinct words of every report (folded), for finding what a typo meant."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.counts: Counter[str] = Counter()
        for text in texts:
            self.add(text)
        self._words: list[str] | None = None  # sorted, for finding a prefix by bisection

    def add(self, text: str) -> None:
        # lower(), not casefold(): "straße" must stay a word the text holds ("strasse" is not)
        self.counts.update(map(str.lower, _WORD.findall(text)))
        self._words = None

    def similar(self, word: str, limit: int = 5) -> list[tuple[str, float]]:
        """Report words that start with ``word`` (the most frequent first) or are within a
        typo or two of it, best first (``word`` itself too)."""
        if self._words is None:
            self._words = sorted(self.counts)
        words = self._words
        word = word.lower()
        # Every word close enough (not rapidfuzz's first ``limit``, which breaks ties by list
        # order: alphabetical here), so that frequency can break them below.
        found = process.extract(word, words, scorer=fuzz.ratio, limit=None, score_cutoff=TYPO_SCORE)
        scores = {w: s for w, s, _ in found}
        longer = []  # the words that start with it lie together in sorted order
        for i in range(bisect.bisect_right(words, word), len(words)):
            if not words[i].startswith(word):
                break
            longer.append(words[i])
        longer.sort(key=lambda w: -self.counts[w])
        for w in longer[:limit]:
            scores[w] = max(scores.get(w, 0.0), 95.0 - min(len(w) - len(word), 30) / 3)
        # Of two words as close, the more frequent is the likelier meant ("lipase", not
        # "lipape", for "lipaes").
        counts = self.counts
        return sorted(scores.items(), key=lambda kv: (-kv[1], -counts[kv[0]]))[:limit]


def text_search(
    store,  # reviewer.core.store.Store
    raw: str | Query,
    *,
    vocabulary: Vocabulary | None = None,
    limit: int = 200,
) -> list[TextHit]:
    """Places in the report text that hold the query (case folded), exact matches first, then
    matches of report words that resemble a typo'd query (when a vocabulary is given). Filters
    ``reviewer:`` and ``status:`` keep the reports that reviewer has (in that status);
    ``label:`` applies to spans, not text, and is refused."""
    query = raw if isinstance(raw, Query) else parse_query(raw, store.labels.names)
    if query.label is not None:
        raise ReviewerError("label: filters spans; text search looks in the text (drop label:)")
    needle = query.text.strip()
    if not needle:
        return []
    allowed = _reports_for(store, query)
    hits: list[TextHit] = []
    seen: set[tuple[str, int, int]] = set()
    for phrase, score in _phrases(needle, vocabulary):  # best first
        if _cut_reached(hits, score, limit):
            break  # this phrase's hits (and the next ones') would all fall below the cut
        # Each phrase brings at most ``limit`` whole-word places and ``limit`` places inside
        # words, so typos get their turn and whole words are not crowded out by parts.
        whole_found = part_found = scanned = 0
        # Read as needed: most searches stop early.
        for report_id in store.iter_fts_report_ids(phrase):
            # Enough whole words; or enough parts of words after a fair look for whole ones
            # (a one-letter query is inside every report).
            if whole_found >= limit or (part_found >= limit and scanned >= _LOOK):
                break
            scanned += 1
            if allowed is not None and report_id not in allowed:
                continue
            text = store.report_text(report_id)
            for start in find_all(text, phrase):
                end = start + len(phrase)
                if (report_id, start, end) in seen:
                    continue
                whole = _boundary(text, start) and _boundary(text, end)
                if (whole and whole_found >= limit) or (not whole and part_found >= limit):
                    continue
                seen.add((report_id, start, end))
                hits.append(
                    TextHit(report_id, start, end, text[start:end], score * (1 if whole else 0.7))
                )
                whole_found += whole
                part_found += not whole
    # Whole words first ("erythema" before the start of "erythematosus"), then in order.
    hits.sort(key=lambda h: -h.score)
    return _with_spans(store, hits[:limit])


def _cut_reached(hits: list[TextHit], score: float, limit: int) -> bool:
    """Whether ``limit`` hits already score at least ``score``: a later phrase's hits (none
    scores more than its phrase) would then sort after them and be cut (the sort is stable)."""
    return sum(h.score >= score for h in hits) >= limit


def _boundary(text: str, i: int) -> bool:
    """Whether offset ``i`` is at the edge of a word."""
    before = text[i - 1] if i > 0 else " "
    after = text[i] if i < len(text) else " "
    return not (before.isalnum() and after.isalnum())


def _phrases(needle: str, vocabulary: Vocabulary | None) -> list[tuple[str, float]]:
    """The query itself, then (for a one-word query of 3+ characters) report words that are
    a typo away from it."""
    phrases = [(needle, 100.0)]
    if vocabulary is not None and len(needle) >= SHORT and " " not in needle:
        phrases += [(w, s) for w, s in vocabulary.similar(needle) if w != needle.lower()]
    return phrases


def _reports_for(store, query: Query) -> set[str] | None:
    """The reports a text search may look in: all (None), those with the status asked for
    (the store's own status rule, as for export), or those the reviewer has worked on."""
    if query.status is not None:
        return store.report_ids_with_status(query.status, query.reviewer)
    if query.reviewer is None:
        return None
    rows = store.conn.execute(
        "SELECT DISTINCT report_id FROM spans WHERE reviewer = ? "
        "UNION SELECT report_id FROM review_status WHERE reviewer = ?",
        (query.reviewer, query.reviewer),
    )
    return {r[0] for r in rows}


def _with_spans(store, hits: list[TextHit]) -> list[TextHit]:
    """Each hit with the spans that overlap it."""
    overlapping = store.spans_overlapping([(h.report_id, h.start, h.end) for h in hits])
    return [
        TextHit(h.report_id, h.start, h.end, h.text, h.score, tuple(spans))
        for h, spans in zip(hits, overlapping, strict=True)
    ]


# --- for the command line ------------------------------------------------------------------------


def _batches(cursor, cancelled: Callable[[], bool] | None, size: int) -> Iterator[list[tuple]]:
    while batch := cursor.fetchmany(size):
        if cancelled is not None and cancelled():
            raise Cancelled
        yield batch


def _rows(cursor, cancelled: Callable[[], bool] | None, size: int = 5000) -> Iterator[tuple]:
    """A cursor's rows, asking ``cancelled`` between batches."""
    return chain.from_iterable(_batches(cursor, cancelled, size))


def index_store(store, cancelled: Callable[[], bool] | None = None) -> SpanIndex:
    """A span index of everything in the store (read as plain rows, not whole spans)."""
    statuses = {
        (rid, reviewer): Status(status)
        for rid, reviewer, status in store.conn.execute(
            "SELECT report_id, reviewer, status FROM review_status"
        )
    }
    # In text order: the spans of a group then lie together in memory, and counting each
    # group's labels, reviewers and reports runs several times faster than over spans strewn
    # across the heap in table order (more than SQLite's sort costs).
    with store.interruptible(cancelled), no_cyclic_gc():
        rows = store.conn.execute(
            "SELECT id, report_id, start_char, end_char, label, text, reviewer FROM spans "
            "ORDER BY text"
        )
        return SpanIndex.of_rows(_rows(rows, cancelled), statuses)


def vocabulary_of(store, cancelled: Callable[[], bool] | None = None) -> Vocabulary:
    with store.interruptible(cancelled):
        rows = store.conn.execute("SELECT text FROM reports")
        return Vocabulary(text for (text,) in _rows(rows, cancelled, 500))


def search_store(
    store,
    raw: str,
    *,
    text: bool = False,
    label: str | None = None,
    reviewer: str | None = None,
    limit: int = 50,
    viewer: str | None = None,
) -> list[dict]:
    """Hits as flat records (``report_id, start, end, label, text, score`` and more), best
    first: one per span occurrence in span mode (at most ``limit`` groups), one per place in
    the text in text mode (at most ``limit`` places). ``label``/``reviewer`` add filters.
    For a ``viewer`` in a blind session, others' spans on the reports they have not marked
    done are left out, as in the app."""
    from reviewer.core.team import blind_report_ids

    extra = [f"label:{label}" if label else "", f"reviewer:{reviewer}" if reviewer else ""]
    query = parse_query(" ".join([raw, *extra]), store.labels.names)
    blind = blind_report_ids(store, viewer) if viewer else set()

    def hidden(span) -> bool:
        return span.report_id in blind and span.reviewer != viewer

    if text:
        return [
            {
                "report_id": h.report_id,
                "start": h.start,
                "end": h.end,
                "label": None,
                "text": h.text,
                "score": h.score,
                "tagged": sorted({f"{s.label}:{s.reviewer}" for s in h.spans if not hidden(s)}),
            }
            for h in text_search(store, query, vocabulary=vocabulary_of(store), limit=limit)
        ]
    out = []
    for group, hit in enumerate(index_store(store).search(query, limit)):
        for s in hit.spans:
            if hidden(s):
                continue
            out.append(
                {
                    "report_id": s.report_id,
                    "start": s.start,
                    "end": s.end,
                    "label": s.label,
                    "text": s.text,
                    "score": hit.score,
                    "reviewer": s.reviewer,
                    "group": group,
                }
            )
    return out
