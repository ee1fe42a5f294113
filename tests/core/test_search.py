"""Fuzzy span search and report text search (``reviewer.core.search``).

Most tests run over the sample reports and their demo annotations (alice's and bob's spans).
Expected results are computed from the store itself (its spans, its report texts), not copied
from an earlier run.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.core import search as search_module
from reviewer.core.importer import import_paths
from reviewer.core.model import ReviewerError, Span, Status
from reviewer.core.search import (
    Query,
    SpanIndex,
    Vocabulary,
    fold,
    index_store,
    parse_query,
    search_store,
    text_search,
    vocabulary_of,
)
from reviewer.core.store import Store

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"
ALL = 100_000  # a limit no search here reaches


def open_samples(folder: Path) -> Store:
    store = Store(folder / "reviewer.db")
    import_paths(store, [SAMPLES], reviewer="alice")
    return store


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The sample reports and demo annotations, shared by the tests that only read."""
    store = open_samples(tmp_path_factory.mktemp("samples"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def index(samples: Store) -> SpanIndex:
    return index_store(samples)


@pytest.fixture(scope="module")
def vocabulary(samples: Store) -> Vocabulary:
    return vocabulary_of(samples)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Store]:
    """The samples in a store of this test's own, for tests that change it."""
    store = open_samples(tmp_path)
    yield store
    store.close()


def keys(hits) -> list[str]:
    return [h.key for h in hits]


def span_ids(hits) -> set[str]:
    return {s.id for h in hits for s in h.spans}


def phrase_span(store: Store, report_id: str, phrase: str, label: str, reviewer: str) -> Span:
    text = store.report(report_id).text
    start = text.index(phrase)
    return Span(report_id, start, start + len(phrase), label, phrase, reviewer)


def apply_all(index: SpanIndex, result) -> None:
    for change in result.changes:
        index.apply(change.before, change.after)


def places(store: Store, phrase: str) -> set[tuple[str, int, int]]:
    """Every place the phrase occurs in a report, ignoring case (non-overlapping)."""
    found = set()
    for report in store.reports():
        for m in re.finditer(re.escape(phrase), report.text, re.IGNORECASE):
            found.add((report.id, m.start(), m.end()))
    return found


def is_whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


# --- the sample data these tests assume ---------------------------------------------------------


def test_the_samples_have_spans_by_alice_and_bob(samples: Store) -> None:
    spans = samples.spans()
    assert len(spans) > 300
    assert {s.reviewer for s in spans} == {"alice", "bob"}
    assert {s.label for s in spans} == {"drug", "event", "test", "diagnosis"}
    for s in spans:
        assert samples.report(s.report_id).text[s.start : s.end] == s.text


# --- quality: a typo finds what was meant, first -------------------------------------------------

TYPOS = [
    # the issue's own examples
    ("dupilumb", "dupilumab"),
    ("erythma", "erythema"),
    ("antinuclear antibdy", "antinuclear antibodies"),
    # drugs
    ("vancomicin", "vancomycin"),
    ("metformn", "metformin"),
    ("warfarine", "warfarin"),
    ("hydroxychloroquin", "hydroxychloroquine"),
    ("ciclosporine", "ciclosporin"),
    ("allopurinl", "allopurinol"),
    ("gabapentn", "gabapentin"),
    ("carbamazapine", "carbamazepine"),
    ("clarithromicin", "clarithromycin"),
    ("amoxicilin", "amoxicillin"),
    ("daptomicin", "daptomycin"),
    ("tacrolimis", "tacrolimus"),
    ("methylprednisolon", "methylprednisolone"),
    # events
    ("acute kidny injury", "acute kidney injury"),
    ("jaundise", "jaundice"),
    ("eosinophila", "eosinophilia"),
    ("melena", "melaena"),
    ("pruritis", "pruritus"),
    ("intracranial hemorrhage", "intracranial haemorrhage"),
    ("gingival bleding", "gingival bleeding"),
    ("epidermal detachmnt", "epidermal detachment"),
    # tests
    ("creatinin", "creatinine"),
    ("troponn", "troponin T"),
    ("skin biospy", "skin biopsy"),
    ("haemoglobn", "Haemoglobin"),
    ("urinalysys", "Urinalysis"),
    ("bilirubn", "bilirubin"),
    ("white cel count", "white cell count"),
    ("creatine kinse", "creatine kinase"),
    ("alkaline phosphatse", "alkaline phosphatase"),
    # diagnoses
    ("Stevens Jonson syndrome", "Stevens–Johnson syndrome"),
    ("toxic epidermal necrolisis", "toxic epidermal necrolysis"),
    ("myocardits", "myocarditis"),
    ("atrial fibrilation", "atrial fibrillation"),
    ("hypersensitivty pneumonitis", "hypersensitivity pneumonitis"),
    ("oropharyngeal candidasis", "oropharyngeal candidiasis"),
    ("trigeminal neuralgai", "trigeminal neuralgia"),
]


@pytest.mark.parametrize(("query", "meant"), TYPOS, ids=[q for q, _ in TYPOS])
def test_a_typo_finds_the_intended_span_group_first(
    index: SpanIndex, samples: Store, query: str, meant: str
) -> None:
    assert fold(meant) in {fold(s.text) for s in samples.spans()}, "not a sample span text"
    assert fold(query) != fold(meant), "not a typo"
    hits = index.search(query, 10)
    assert hits, query
    assert hits[0].key == fold(meant), [(h.text, h.score) for h in hits]
    assert fold(hits[0].text) == fold(meant)
    assert all(fold(s.text) == fold(meant) for s in hits[0].spans)


def test_a_typo_of_part_of_a_longer_span_finds_it(index: SpanIndex) -> None:
    hits = index.search("lupus erythematosis", 10)
    assert hits
    assert "lupus erythematosus" in hits[0].key, [(h.text, h.score) for h in hits]


def test_a_prefix_finds_its_completions_as_you_type(index: SpanIndex) -> None:
    hits = index.search("dupilu", 10)
    assert hits[0].key == "dupilumab"
    assert "dupilumab associated facial erythema" in keys(hits)
    # The shorter completion first.
    assert keys(hits).index("dupilumab") < keys(hits).index("dupilumab associated facial erythema")


def test_the_exact_text_scores_100_and_comes_first(index: SpanIndex) -> None:
    for text in ("Dupilumab", "erythema", "ALT", "skin biopsy", "Stevens–Johnson syndrome"):
        hits = index.search(text, 10)
        assert hits[0].key == fold(text)
        assert hits[0].score == 100.0
        assert all(h.score < 100.0 for h in hits[1:])


def test_nothing_like_the_query_finds_nothing(index: SpanIndex) -> None:
    assert index.search("zzzzqqqxx", 10) == []


# --- short queries do not flood --------------------------------------------------------------


def has_word_start(key: str, needle: str) -> bool:
    return key.startswith(needle) or f" {needle}" in key


@pytest.mark.parametrize("query", ["e", "E", "d", "a", "h", "er", "du", "Gi", "ab", "ch", "t2"])
def test_short_queries_only_match_at_word_starts(index: SpanIndex, query: str) -> None:
    needle = fold(query)
    hits = index.search(query, ALL)
    assert all(has_word_start(h.key, needle) for h in hits), [
        h.key for h in hits if not has_word_start(h.key, needle)
    ]
    # Keys that start with the query come before keys with a later word that does.
    starts = [h.key.startswith(needle) for h in hits]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize("query", ["e", "d", "a", "x"])
def test_a_one_character_query_gives_exactly_the_word_starts(
    index: SpanIndex, samples: Store, query: str
) -> None:
    every_key = {fold(s.text) for s in samples.spans()}
    expected = {k for k in every_key if has_word_start(k, query)}
    hits = index.search(query, ALL)
    assert set(keys(hits)) == expected
    assert len(hits) < len(every_key) / 2  # not a flood


def test_a_short_query_respects_the_limit(index: SpanIndex) -> None:
    assert len(index.search("e", ALL)) > 5
    assert len(index.search("e", 5)) == 5


# --- fold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Anti-dsDNA", "anti dsDNA"),
        ("anti-dsDNA", "ANTI_DSDNA"),
        ("Dupilumab", "dupilumab"),
        ("DUPILUMAB.", "dupilumab"),
        ("  acute   kidney\n injury ", "acute kidney injury"),
        ("Stevens–Johnson syndrome", "stevens johnson syndrome"),
        ("HHV-6 PCR", "hhv 6 pcr"),
        ("severe cutaneous adverse reactions (SCAR)", "severe cutaneous adverse reactions scar"),
        ("Straße", "STRASSE"),
    ],
)
def test_fold_ignores_case_punctuation_and_spacing(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_fold_keeps_accents_and_letters_apart() -> None:
    assert fold("Anti-dsDNA") == "anti dsdna"
    assert fold("  ,;  ") == ""
    assert fold("café") != fold("cafe")
    assert fold("ab") != fold("a b")


def test_spellings_that_fold_alike_are_one_group(index: SpanIndex) -> None:
    (hit,) = [h for h in index.search("amoxicillin clavulanate", 10) if "clavulanate" in h.key]
    assert {s.text for s in hit.spans} == {"Amoxicillin–clavulanate", "amoxicillin–clavulanate"}
    assert hit.key == "amoxicillin clavulanate"


# --- filters ------------------------------------------------------------------------------------


def test_label_filter_keeps_only_that_label(index: SpanIndex, samples: Store) -> None:
    hits = index.search("label:drug", ALL)
    assert hits
    assert all(s.label == "drug" for h in hits for s in h.spans)
    assert span_ids(hits) == {s.id for s in samples.spans(label="drug")}
    # With text: myocarditis has event and diagnosis spans; label:event keeps the events.
    (hit,) = [h for h in index.search("label:event myocarditis", 5) if h.key == "myocarditis"]
    assert set(hit.labels) == {"event"}
    assert hit.labels["event"] == sum(
        1 for s in samples.spans(label="event") if fold(s.text) == "myocarditis"
    )


def test_reviewer_filter_keeps_only_their_spans(index: SpanIndex, samples: Store) -> None:
    hits = index.search("reviewer:bob", ALL)
    assert all(h.reviewers == ["bob"] for h in hits)
    assert span_ids(hits) == {s.id for s in samples.spans(reviewer="bob")}
    # alice's "R ratio" has no span of bob's: his search cannot find it.
    assert "r ratio" in keys(index.search("reviewer:alice R ratio", 5))
    assert "r ratio" not in keys(index.search("reviewer:bob R ratio", 50))
    assert index.search("reviewer:nobody", ALL) == []


def test_filters_combine_with_each_other_and_with_text(index: SpanIndex, samples: Store) -> None:
    hits = index.search("label:drug reviewer:bob dupilumb", 10)
    assert hits[0].key == "dupilumab"
    expected = {
        s.id for s in samples.spans(reviewer="bob", label="drug") if fold(s.text) == "dupilumab"
    }
    assert {s.id for s in hits[0].spans} == expected
    assert all(s.label == "drug" and s.reviewer == "bob" for h in hits for s in h.spans)
    # "drug-induced liver injury" is a diagnosis (alice, bob) and an event (bob only).
    (hit,) = index.search("label:event reviewer:bob drug induced liver injury", 1)
    assert hit.key == "drug induced liver injury"
    assert [(s.label, s.reviewer) for s in hit.spans] == [("event", "bob")]
    alices = index.search("label:event reviewer:alice drug-induced liver injury", 50)
    assert "drug induced liver injury" not in keys(alices)


def test_status_filter_uses_the_span_reviewers_status(fresh: Store) -> None:
    fresh.set_status("case03", "bob", Status.DONE)
    fresh.set_status("case01", "alice", Status.DONE)
    fresh.set_status("case02", "alice", Status.IN_PROGRESS)
    fresh.set_status("case04", "alice", Status.FLAGGED, reason="odd dates")
    index = index_store(fresh)

    def selected(query: str) -> set[str]:
        return span_ids(index.search(query, ALL))

    def spans_of(*pairs: tuple[str, str]) -> set[str]:
        return {s.id for s in fresh.spans() if (s.report_id, s.reviewer) in pairs}

    assert selected("status:done") == spans_of(("case03", "bob"), ("case01", "alice"))
    assert selected("status:in_progress") == spans_of(("case02", "alice"))
    assert selected("status:in-progress") == spans_of(("case02", "alice"))
    assert selected("status:flagged") == spans_of(("case04", "alice"))
    moved = spans_of(
        ("case03", "bob"), ("case01", "alice"), ("case02", "alice"), ("case04", "alice")
    )
    assert selected("status:todo") == {s.id for s in fresh.spans()} - moved
    assert selected("status:done reviewer:bob") == spans_of(("case03", "bob"))
    assert selected("status:done label:drug") == {
        s.id
        for s in fresh.spans(label="drug")
        if s.id in spans_of(("case03", "bob"), ("case01", "alice"))
    }
    # Vancomycin (case03) is done for bob, not for alice.
    (hit,) = index.search("status:done vancomicin", 1)
    assert hit.key == "vancomycin" and hit.reviewers == ["bob"]

    # The index follows status changes it is told of.
    fresh.set_status("case03", "alice", Status.DONE)
    index.set_status("case03", "alice", Status.DONE)
    (hit,) = index.search("status:done vancomicin", 1)
    assert hit.reviewers == ["alice", "bob"]
    assert selected("status:done") == spans_of(
        ("case03", "bob"), ("case03", "alice"), ("case01", "alice")
    )
    assert selected("status:done") == span_ids(index_store(fresh).search("status:done", ALL))


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("colour:red dupilumab", ["unknown filter", "colour", "label:", "reviewer:", "status:"]),
        ("label:medication", ["unknown label", "medication", "diagnosis", "drug", "event", "test"]),
        ("status:finished x", ["unknown status", "finished", "todo", "in_progress", "done"]),
        ("label: x", ["label:", "needs a value"]),
    ],
)
def test_unknown_filters_labels_and_statuses_are_clear_errors(
    samples: Store, query: str, words: list[str]
) -> None:
    for call in (
        lambda: parse_query(query, samples.labels.names),
        lambda: search_store(samples, query),
    ):
        with pytest.raises(ReviewerError) as err:
            call()
        message = str(err.value)
        assert "\n" not in message
        for word in words:
            assert word in message, (word, message)


def test_search_store_options_are_checked_too(samples: Store) -> None:
    with pytest.raises(ReviewerError, match="unknown label 'medication'.*drug"):
        search_store(samples, "x", label="medication")


def test_parse_query_splits_filters_from_text() -> None:
    labels = ("drug", "event", "test", "diagnosis")
    q = parse_query("Label:DRUG  dupilumab reviewer:bob  facial status:Done", labels)
    assert q == Query("dupilumab facial", "drug", "bob", Status.DONE)
    assert q.has_filters
    assert not parse_query("HLA-B*15:02 1:80", labels).has_filters
    assert parse_query("HLA-B*15:02 1:80", labels).text == "HLA-B*15:02 1:80"


def test_filters_alone_list_what_they_select(index: SpanIndex, samples: Store) -> None:
    for query, spans in [
        ("label:event", samples.spans(label="event")),
        ("reviewer:bob", samples.spans(reviewer="bob")),
        ("label:test reviewer:alice", samples.spans(label="test", reviewer="alice")),
    ]:
        hits = index.search(query, ALL)
        assert span_ids(hits) == {s.id for s in spans}, query
        assert set(keys(hits)) == {fold(s.text) for s in spans}, query
        assert all(h.score == 100.0 for h in hits)


def test_no_query_at_all_lists_every_group_most_frequent_first(
    index: SpanIndex, samples: Store
) -> None:
    counts = Counter(fold(s.text) for s in samples.spans())
    hits = index.search("", ALL)
    assert {h.key: len(h.spans) for h in hits} == dict(counts)
    sizes = [len(h.spans) for h in hits]
    assert sizes == sorted(sizes, reverse=True)
    assert hits[0].key == counts.most_common(1)[0][0]


def test_filters_alone_list_groups_by_how_many_spans_they_select(index: SpanIndex) -> None:
    for query in ("label:event", "label:test", "label:diagnosis", "reviewer:bob"):
        hits = index.search(query, ALL)
        sizes = [len(h.spans) for h in hits]
        assert sizes == sorted(sizes, reverse=True), (query, [(h.text, len(h.spans)) for h in hits])
        # So a limit keeps the most frequent.
        top = index.search(query, 1)[0]
        assert len(top.spans) == max(sizes), query


# --- grouping -----------------------------------------------------------------------------------


def test_hits_group_spans_by_folded_text_with_correct_counts(
    index: SpanIndex, samples: Store
) -> None:
    by_key: dict[str, list[Span]] = defaultdict(list)
    for s in samples.spans():
        by_key[fold(s.text)].append(s)
    hits = index.search("", ALL)
    assert len(hits) == len(by_key) == index.distinct
    assert len(index) == len(samples.spans())
    for hit in hits:
        spans = by_key[hit.key]
        assert {s.id for s in hit.spans} == {s.id for s in spans}
        assert hit.labels == Counter(s.label for s in spans)
        assert hit.reviewers == sorted({s.reviewer for s in spans})
        assert hit.reports == sorted({s.report_id for s in spans})
        # The group's text is its most frequent spelling.
        spellings = Counter(s.text for s in spans)
        assert spellings[hit.text] == max(spellings.values())


def test_a_group_with_several_labels_and_reports(index: SpanIndex, samples: Store) -> None:
    (hit,) = [h for h in index.search("prednisolone", 5) if h.key == "prednisolone"]
    spans = [s for s in samples.spans() if fold(s.text) == "prednisolone"]
    assert len(hit.spans) == len(spans) > 4
    assert hit.reviewers == ["alice", "bob"]
    assert len(hit.reports) > 1
    (hit,) = [h for h in index.search("myocarditis", 5) if h.key == "myocarditis"]
    assert set(hit.labels) == {"event", "diagnosis"}


# --- the index follows the store's changes -------------------------------------------------------


def test_the_index_follows_adds_updates_and_deletes(fresh: Store) -> None:
    index = index_store(fresh)
    assert "ramipril" not in keys(index.search("ramipril", ALL))
    before = len(index)

    # add
    new = phrase_span(fresh, "case05", "ramipril", "drug", "carol")
    apply_all(index, fresh.add_span(new))
    assert len(index) == before + 1
    hit = index.search("ramiprl", 5)[0]
    assert hit.key == "ramipril"
    assert [(s.id, s.label, s.reviewer) for s in hit.spans] == [(new.id, "drug", "carol")]
    assert "ramipril" in keys(index.search("label:drug reviewer:carol", ALL))

    # update: the label
    apply_all(index, fresh.update_span(new.id, "carol", label="test"))
    assert "ramipril" not in keys(index.search("label:drug ramipril", 50))
    (hit,) = index.search("label:test reviewer:carol", ALL)
    assert hit.key == "ramipril" and set(hit.labels) == {"test"}

    # update: the offsets, onto another word; the old group empties and is gone
    text = fresh.report("case05").text
    start = text.index("ibuprofen")
    apply_all(index, fresh.update_span(new.id, "carol", start=start, end=start + len("ibuprofen")))
    assert "ramipril" not in keys(index.search("ramipril", ALL))
    assert "ramipril" not in keys(index.search("", ALL))
    assert "ramipril" not in keys(index.search("ra", ALL))
    hit = index.search("ibuprofn", 5)[0]
    assert hit.key == "ibuprofen"
    assert [(s.start, s.end, s.text) for s in hit.spans] == [
        (start, start + len("ibuprofen"), "ibuprofen")
    ]
    assert len(index) == before + 1

    # delete: the group is gone, from every kind of search
    apply_all(index, fresh.delete_span(new.id, "carol"))
    assert len(index) == before
    assert "ibuprofen" not in keys(index.search("ibuprofen", ALL))
    assert "ibuprofen" not in keys(index.search("i", ALL))
    assert "ibuprofen" not in keys(index.search("", ALL))
    assert index.search("reviewer:carol", ALL) == []

    # re-adding works
    again = phrase_span(fresh, "case05", "ramipril", "drug", "carol")
    apply_all(index, fresh.add_span(again))
    (hit,) = index.search("reviewer:carol", ALL)
    assert hit.key == "ramipril" and [s.id for s in hit.spans] == [again.id]
    assert index.search("ramipril", 5)[0].key == "ramipril"

    # And undo goes through the same path.
    apply_all(index, fresh.undo("carol"))
    assert index.search("reviewer:carol", ALL) == []
    apply_all(index, fresh.redo("carol"))
    assert keys(index.search("reviewer:carol", ALL)) == ["ramipril"]

    # All along, the index is what a new one would be.
    assert_same_as_rebuilt(index, fresh)


def test_changes_to_a_shared_group_update_its_counts(fresh: Store) -> None:
    index = index_store(fresh)
    (hit,) = [h for h in index.search("dupilumab", 5) if h.key == "dupilumab"]
    n = len(hit.spans)
    mine = next(s for s in hit.spans if s.reviewer == "bob")
    apply_all(index, fresh.delete_span(mine.id, "bob"))
    hit = index.search("dupilumab", 5)[0]
    assert hit.key == "dupilumab" and len(hit.spans) == n - 1
    assert mine.id not in {s.id for s in hit.spans}
    # A label change moves the span between labels within its group.
    alices = next(s for s in hit.spans if s.reviewer == "alice")
    apply_all(index, fresh.update_span(alices.id, "alice", label="event"))
    hit = index.search("dupilumab", 5)[0]
    assert hit.labels["event"] == 1 and hit.labels["drug"] == n - 2
    assert_same_as_rebuilt(index, fresh)


def assert_same_as_rebuilt(index: SpanIndex, store: Store) -> None:
    """``index`` holds what one read from the store afresh holds (in text order, as the app
    builds it), and what one built from the store's spans in their own order holds."""

    def groups(ix: SpanIndex) -> dict[str, tuple]:
        return {
            h.key: (
                {(s.id, s.label, s.start, s.end, s.reviewer) for s in h.spans},
                h.text,
                h.labels,
                h.reviewers,
                h.reports,
                h.report_count,
                h.count,
            )
            for h in ix.search("", ALL)
        }

    for rebuilt in (index_store(store), SpanIndex(store.spans())):
        assert groups(index) == groups(rebuilt)
        assert len(index) == len(rebuilt) and index.distinct == rebuilt.distinct


# --- text search --------------------------------------------------------------------------------


def assert_true_to_the_text(store: Store, hits) -> None:
    for h in hits:
        assert store.report(h.report_id).text[h.start : h.end] == h.text


def test_an_exact_phrase_is_found_everywhere_with_its_offsets(samples: Store) -> None:
    for phrase in ("acute kidney injury", "dupilumab", "skin biopsy", "Stevens–Johnson"):
        hits = text_search(samples, phrase, limit=ALL)
        assert_true_to_the_text(samples, hits)
        assert {(h.report_id, h.start, h.end) for h in hits} == places(samples, phrase)
        assert all(h.text.casefold() == phrase.casefold() for h in hits)


def test_text_search_ignores_case(samples: Store) -> None:
    def found(q: str) -> set[tuple[str, int, int]]:
        return {(h.report_id, h.start, h.end) for h in text_search(samples, q, limit=ALL)}

    assert found("DUPILUMAB") == found("dupilumab") == found("DuPiLuMaB")
    assert {h.text for h in text_search(samples, "DUPILUMAB", limit=ALL)} == {
        "dupilumab",
        "Dupilumab",
    }
    # Beyond ASCII too.
    (hit,) = text_search(samples, "LÉA BRENNER", limit=ALL)
    assert hit.text == "Léa Brenner"
    assert_true_to_the_text(samples, [hit])


def test_whole_words_rank_above_hits_inside_words(samples: Store) -> None:
    hits = text_search(samples, "erythema", limit=ALL)
    texts = {report.id: report.text for report in samples.reports()}
    whole = [is_whole_word(texts[h.report_id], h.start, h.end) for h in hits]
    assert any(whole) and not all(whole)  # "erythema", and inside "erythematosus"
    assert whole == sorted(whole, reverse=True)
    assert min(h.score for h, w in zip(hits, whole, strict=True) if w) > max(
        h.score for h, w in zip(hits, whole, strict=True) if not w
    )


def test_whole_words_rank_above_hits_inside_words_under_a_limit(samples: Store) -> None:
    texts = {report.id: report.text for report in samples.reports()}
    every = text_search(samples, "CT", limit=ALL)
    n_whole = sum(is_whole_word(texts[h.report_id], h.start, h.end) for h in every)
    assert 4 <= n_whole < len(every)
    hits = text_search(samples, "CT", limit=4)
    assert len(hits) == 4
    assert all(is_whole_word(texts[h.report_id], h.start, h.end) for h in hits)


def one_report_store(folder: Path, text: str) -> Store:
    source = folder / "in" / "case.txt"
    source.parent.mkdir(parents=True)
    source.write_text(text, encoding="utf-8")
    store = Store(folder / "reviewer.db")
    import_paths(store, [source.parent], reviewer="alice")
    return store


def test_text_search_ignores_case_in_a_report_with_a_dotted_capital_i(tmp_path: Path) -> None:
    text = "Reported by Dr. İlker Yılmaz. Dupilumab was started; dupilumab was stopped.\n"
    with one_report_store(tmp_path, text) as store:
        for query in ("dupilumab", "DUPILUMAB", "Dupilumab"):
            hits = text_search(store, query, limit=ALL)
            assert [h.text for h in hits] == ["Dupilumab", "dupilumab"], query
            assert_true_to_the_text(store, hits)
        assert [h.text for h in text_search(store, "yılmaz", limit=ALL)] == ["Yılmaz"]


def test_a_typo_of_a_word_with_sharp_s_finds_it(tmp_path: Path) -> None:
    text = "Department of Dermatology, Hauptstraße 5, Berlin. Dupilumab was started.\n"
    with one_report_store(tmp_path, text) as store:
        assert [h.text for h in text_search(store, "hauptstraße", limit=ALL)] == ["Hauptstraße"]
        hits = text_search(store, "hauptstrase", vocabulary=vocabulary_of(store), limit=ALL)
        assert [h.text for h in hits] == ["Hauptstraße"]


def test_a_typo_finds_the_real_word_through_the_vocabulary(
    samples: Store, vocabulary: Vocabulary
) -> None:
    for typo, word in [
        ("erythma", "erythema"),
        ("vancomicin", "vancomycin"),
        ("dupilumb", "dupilumab"),
    ]:
        assert text_search(samples, typo, limit=ALL) == []  # not in the text as typed
        hits = text_search(samples, typo, vocabulary=vocabulary, limit=ALL)
        assert hits, typo
        assert hits[0].text.casefold() == word
        assert_true_to_the_text(samples, hits)
        whole = {(h.report_id, h.start, h.end) for h in hits if h.text.casefold() == word}
        assert whole >= {
            (rid, s, e)
            for rid, s, e in places(samples, word)
            if is_whole_word(samples.report(rid).text, s, e)
        }


def test_the_vocabulary_knows_report_words(vocabulary: Vocabulary) -> None:
    assert vocabulary.counts["dupilumab"] > 1
    similar = dict(vocabulary.similar("vancomicin"))
    assert "vancomycin" in similar
    assert "dupilumab" in dict(vocabulary.similar("dupil"))


def test_a_word_as_close_as_another_but_more_frequent_is_suggested_first() -> None:
    # "lipase" and "lipape" are each one edit from "lipaes"; the report says "lipase" more.
    vocabulary = Vocabulary(["lipape once.", "lipase, lipase and lipase again."])
    assert [w for w, _ in vocabulary.similar("lipaes")][:2] == ["lipase", "lipape"]
    # Even when more rare words tie than the limit takes (and come first alphabetically).
    vocabulary = Vocabulary(["lipaea lipaeb lipaec lipaed lipaef " + "lipase " * 50])
    assert vocabulary.similar("lipaes", limit=5)[0][0] == "lipase"
    # Completions of a prefix (the shorter first), found in the sorted words, then typos.
    vocabulary = Vocabulary(["dupilumab dupilumab dupixent dupilumab dupixent dup dupe"])
    assert [w for w, _ in vocabulary.similar("dupi")] == ["dupixent", "dupilumab", "dup"]
    words = sorted(vocabulary.counts)
    for prefix in ("d", "du", "dup", "dupe", "dupix", "e", ""):
        found = {w for w, _ in vocabulary.similar(prefix, limit=50)}
        assert {w for w in words if w.startswith(prefix) and w != prefix} <= found, prefix


def test_stopping_once_the_cut_is_reached_changes_no_result(
    samples: Store, vocabulary: Vocabulary, monkeypatch
) -> None:
    real = search_module._cut_reached
    stopped = []

    def recorded(hits, score, limit) -> bool:
        stopped.append(real(hits, score, limit))
        return stopped[-1]

    # Typos, whole words, parts of words (whose hits score lower than a whole word's) and
    # prefixes (whose completions score by their length) of the samples' commoner words.
    common = [w for w, n in vocabulary.counts.most_common(200) if len(w) >= 6][:25]
    queries = ["erythma", "vancomicin", "dupilumb", "pt"]
    for word in common:
        queries += [word, word[:4], word[1:-1], word[:-1] + "x"]
    for query in queries:
        for limit in [1, 2, 3, 10]:
            monkeypatch.setattr(search_module, "_cut_reached", recorded)
            fast = text_search(samples, query, vocabulary=vocabulary, limit=limit)
            monkeypatch.setattr(search_module, "_cut_reached", lambda hits, score, limit: False)
            assert fast == text_search(samples, query, vocabulary=vocabulary, limit=limit)
    assert any(stopped) and not all(stopped)  # the shortcut was taken, and not always


def test_text_hits_carry_the_spans_overlapping_them(samples: Store) -> None:
    hits = text_search(samples, "dupilumab", limit=ALL)
    by_report = {rid: samples.spans(rid) for rid in {h.report_id for h in hits}}
    for h in hits:
        expected = {s.id for s in by_report[h.report_id] if s.start < h.end and h.start < s.end}
        assert {s.id for s in h.spans} == expected
        for reviewer in ("alice", "bob", "carol"):
            exact = any(
                s.reviewer == reviewer and (s.start, s.end) == (h.start, h.end)
                for s in by_report[h.report_id]
            )
            assert h.tagged_by(reviewer) is exact
    # There are both kinds: tagged exactly, and only covered by a longer span.
    assert any(h.tagged_by("alice") and h.tagged_by("bob") for h in hits)
    assert any(h.spans and not h.tagged_by("alice") and not h.tagged_by("bob") for h in hits)
    assert any(not h.spans for h in hits)


def test_reviewer_filter_keeps_their_reports(samples: Store) -> None:
    bobs = {s.report_id for s in samples.spans(reviewer="bob")}
    every = text_search(samples, "patient", limit=ALL)
    assert {h.report_id for h in every} - bobs, "the test needs reports bob has not seen"
    hits = text_search(samples, "reviewer:bob patient", limit=ALL)
    assert hits
    assert {(h.report_id, h.start) for h in hits} == {
        (h.report_id, h.start) for h in every if h.report_id in bobs
    }
    assert text_search(samples, "reviewer:nobody patient", limit=ALL) == []


def test_status_filter_keeps_reports_in_that_status(fresh: Store) -> None:
    fresh.set_status("case01", "alice", Status.DONE)
    fresh.set_status("case05", "carol", Status.DONE)
    fresh.set_status("case02", "bob", Status.IN_PROGRESS)

    def reports(query: str) -> set[str]:
        return {h.report_id for h in text_search(fresh, query, limit=ALL)}

    every = reports("patient")
    assert {"case01", "case02", "case05"} <= every
    assert reports("status:done patient") == {"case01", "case05"}
    assert reports("status:done reviewer:alice patient") == {"case01"}
    assert reports("status:in_progress patient") == {"case02"}
    assert reports("status:todo reviewer:alice patient") == every - {"case01"}
    assert reports("status:todo patient") == every - {"case01", "case02", "case05"}


def test_label_filter_is_refused_in_text_mode(samples: Store) -> None:
    with pytest.raises(ReviewerError, match="label:"):
        text_search(samples, "label:drug dupilumab")
    with pytest.raises(ReviewerError, match="label:"):
        search_store(samples, "dupilumab", text=True, label="drug")
    with pytest.raises(ReviewerError, match="label:"):
        search_store(samples, "label:drug dupilumab", text=True)


@pytest.mark.parametrize("query", ["CT", "ct", "e", "mg", "4"])
def test_short_text_queries_scan_and_respect_the_limit(samples: Store, query: str) -> None:
    every = text_search(samples, query, limit=ALL)
    assert len(every) > 10, query
    assert {(h.report_id, h.start, h.end) for h in every} == places(samples, query)
    assert_true_to_the_text(samples, every)
    hits = text_search(samples, query, limit=7)
    assert len(hits) == 7
    assert all(h.text.casefold() == query.casefold() for h in hits)
    # A short query is not a typo of anything: the vocabulary adds nothing.
    with_vocabulary = text_search(samples, query, vocabulary=vocabulary_of(samples), limit=ALL)
    assert {(h.report_id, h.start) for h in with_vocabulary} == {
        (h.report_id, h.start) for h in every
    }


def test_search_store_text_records(samples: Store) -> None:
    records = search_store(samples, "erythma", text=True, limit=10)
    assert 0 < len(records) <= 10
    assert records[0]["text"].casefold() == "erythema"
    for r in records:
        assert {"report_id", "start", "end", "label", "text", "score", "tagged"} <= set(r)
        assert r["label"] is None
        assert samples.report(r["report_id"]).text[r["start"] : r["end"]] == r["text"]
        expected = sorted(
            {
                f"{s.label}:{s.reviewer}"
                for s in samples.spans(r["report_id"])
                if s.start < r["end"] and r["start"] < s.end
            }
        )
        assert r["tagged"] == expected
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)
    assert search_store(samples, "reviewer:bob erythema", text=True, limit=ALL) == search_store(
        samples, "erythema", text=True, reviewer="bob", limit=ALL
    )


def test_empty_text_query_finds_nothing(samples: Store) -> None:
    assert text_search(samples, "   ") == []
    assert text_search(samples, "reviewer:bob") == []


# --- search_store in span mode --------------------------------------------------------------------


def test_search_store_span_records(samples: Store) -> None:
    records = search_store(samples, "dupilumb", limit=3)
    groups = [r["group"] for r in records]
    assert groups == sorted(groups) and set(groups) <= {0, 1, 2}
    assert fold(records[0]["text"]) == "dupilumab"
    for r in records:
        assert {"report_id", "start", "end", "label", "text", "score", "reviewer"} <= set(r)
        assert samples.report(r["report_id"]).text[r["start"] : r["end"]] == r["text"]
    first = [r for r in records if r["group"] == 0]
    assert len(first) == sum(1 for s in samples.spans() if fold(s.text) == "dupilumab")
    bobs = search_store(samples, "", label="drug", reviewer="bob", limit=ALL)
    assert {(r["report_id"], r["start"], r["end"]) for r in bobs} == {
        (s.report_id, s.start, s.end) for s in samples.spans(label="drug", reviewer="bob")
    }
    assert all(r["reviewer"] == "bob" and r["label"] == "drug" for r in bobs)


# --- property -----------------------------------------------------------------------------------

# Any characters but ':' (``word:value`` is a filter) and surrogates.
span_texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=":"),
    min_size=1,
    max_size=25,
).filter(lambda t: fold(t) != "")


@settings(max_examples=150, deadline=None)
@given(st.lists(span_texts, min_size=1, max_size=25), st.data())
def test_a_span_text_finds_its_own_group_first_with_score_100(texts: list[str], data) -> None:
    spans = [Span("r", 0, len(t), "drug", t, "alice") for t in texts]
    index = SpanIndex(spans)
    text = data.draw(st.sampled_from(texts))
    for query in (text, Query(text)):
        hits = index.search(query, 10)
        assert hits, text
        assert hits[0].key == fold(text)
        assert hits[0].score == 100.0
        assert {s.id for s in hits[0].spans} == {s.id for s in spans if fold(s.text) == fold(text)}
        assert all(h.key != fold(text) for h in hits[1:])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove", "relabel"]), st.integers(0, 9), span_texts),
        max_size=40,
    )
)
def test_an_index_updated_in_place_equals_one_built_afresh(ops) -> None:
    index = SpanIndex()
    live: dict[str, Span] = {}
    for op, n, text in ops:
        span_id = f"s{n}"
        before = live.get(span_id)
        if op == "add":
            after = Span("r", 0, len(text), "drug", text, "alice", id=span_id)
        elif op == "relabel" and before is not None:
            after = Span("r", 0, len(before.text), "event", before.text, "bob", id=span_id)
        else:
            after = None
        index.apply(before, after)
        if after is None:
            live.pop(span_id, None)
        else:
            live[span_id] = after
    rebuilt = SpanIndex(live.values())

    def groups(ix: SpanIndex) -> dict[str, set[tuple]]:
        return {h.key: {(s.id, s.label, s.reviewer) for s in h.spans} for h in ix.search("", ALL)}

    assert groups(index) == groups(rebuilt)
    assert len(index) == len(live) and index.distinct == rebuilt.distinct
    for span in live.values():
        assert index.search(Query(span.text), 5)[0].key == fold(span.text)
