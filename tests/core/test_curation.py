"""Curation: clusters of the reviewers' spans, their kinds, and the curated layer's decisions,
up to a scripted curation of a sample report exported as gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.core import curation, team
from reviewer.core.exporter import export
from reviewer.core.importer import import_paths
from reviewer.core.model import Report, ReviewerError, Span, Status
from reviewer.core.store import Store
from reviewer.core.team import CURATED

TEXT = "Dupilumab was started; facial erythema followed. ANA was positive in serum."
SAMPLE = Path(__file__).resolve().parents[2] / "sample_reports"


def at(phrase: str, label: str, reviewer: str, **kw) -> Span:
    start = TEXT.index(phrase)
    return Span("r", start, start + len(phrase), label, phrase, reviewer, **kw)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "reviewer.db") as s:
        with s.write():
            s.insert_reports([Report(id="r", text=TEXT)])
        for span in [
            at("Dupilumab", "drug", "a", attributes={"x": 1}),
            at("Dupilumab", "drug", "b", attributes={"x": 1}),  # agreed
            at("facial erythema", "event", "a"),
            at("erythema", "event", "b"),  # boundary
            at("ANA", "test", "a"),
            at("ANA", "diagnosis", "b"),  # label
            at("serum", "test", "a"),  # missing: only a
        ]:
            s.add_span(span)
        yield s


def test_clusters_say_how_the_reviewers_differ(store: Store) -> None:
    found = [(TEXT[c.start : c.end], c.kind) for c in curation.clusters(store, "r")]
    assert found == [
        ("Dupilumab", "agreed"),
        ("facial erythema", "boundary"),
        ("ANA", "label"),
        ("serum", "missing"),
    ]


def test_the_same_words_and_label_with_other_attributes_are_no_agreement(
    store: Store,
) -> None:
    """Negated by one reviewer and not by the other: the curator must see it, not have it
    accepted silently."""
    store.add_span(at("positive", "test", "a", attributes={"negated": True}))
    store.add_span(at("positive", "test", "b"))
    kinds = {TEXT[c.start : c.end]: c.kind for c in curation.clusters(store, "r")}
    assert kinds["positive"] == "attributes"
    curation.auto_accept(store, "r", "carol")
    assert [s.text for s in store.spans("r", reviewer=CURATED)] == ["Dupilumab"]
    cluster = next(c for c in curation.clusters(store, "r") if c.kind == "attributes")
    (gold,) = curation.accept(store, cluster, "a", "carol").spans
    assert gold.attributes == {"negated": True}


def test_one_reviewer_alone_agrees_with_no_one(store: Store, tmp_path: Path) -> None:
    kinds = {c.kind for c in curation.clusters(store, "r", ["a"])}
    assert kinds == {"missing"}


def test_agreed_spans_are_accepted_once_with_their_attributes(store: Store) -> None:
    assert len(curation.auto_accept(store, "r", "carol")) == 1
    assert len(curation.auto_accept(store, "r", "carol")) == 0  # idempotent
    (gold,) = store.spans("r", reviewer=CURATED)
    assert (gold.text, gold.label, gold.attributes) == ("Dupilumab", "drug", {"x": 1})
    where = curation.provenance(store, gold.id)
    assert where is not None and where["decision"] == "agreed" and where["curator"] == "carol"
    assert sorted(s["reviewer"] for s in where["sources"]) == ["a", "b"]
    assert [c.kind for c in curation.clusters(store, "r") if not c.resolved] == [
        "boundary",
        "label",
        "missing",
    ]


def test_accept_reject_and_edit_resolve_each_disagreement(store: Store) -> None:
    assert curation.open_reports(store, ["r"]) == {"r": 3}
    _, boundary, label, missing = curation.clusters(store, "r")
    curation.accept(store, boundary, "b", "carol")  # b's "erythema"
    curation.reject(store, missing, "carol")  # "serum" is not a test here
    start = TEXT.index("ANA")
    curation.add_curated(store, label, start, start + 3, "test", "carol")
    gold = sorted((s.text, s.label) for s in store.spans("r", reviewer=CURATED))
    assert gold == [("ANA", "test"), ("erythema", "event")]
    assert [c.resolved for c in curation.clusters(store, "r")] == [False, True, True, True]
    assert curation.open_reports(store, ["r"]) == {}  # the agreed one is no disagreement


def test_a_rejection_is_undone_too_and_only_the_latest_decision(store: Store) -> None:
    _, boundary, label, missing = curation.clusters(store, "r")
    taken = curation.accept(store, boundary, "a", "carol")
    rejected = curation.reject(store, missing, "carol")
    curation.undo(store, rejected, "carol")
    assert not curation.clusters(store, "r")[3].resolved  # the rejection is gone
    assert curation.clusters(store, "r")[1].resolved  # the decision before it stays
    store.add_span(at("positive", "test", "carol"))  # the curator's own reviewing
    with pytest.raises(ReviewerError, match="no longer your latest change"):
        curation.undo(store, taken, "carol")
    assert [s.text for s in store.spans("r", reviewer="carol")] == ["positive"]


def test_the_curator_can_undo_a_decision_and_the_cluster_opens_again(store: Store) -> None:
    _, boundary, *_ = curation.clusters(store, "r")
    curation.accept(store, boundary, "a", "carol")
    assert store.undo("carol") is not None
    assert store.spans("r", reviewer=CURATED) == []
    assert not curation.clusters(store, "r")[1].resolved


def test_curating_twice_makes_one_span(store: Store) -> None:
    _, boundary, *_ = curation.clusters(store, "r")
    curation.accept(store, boundary, "a", "carol")
    curation.accept(store, boundary, "a", "dan")
    assert len(store.spans("r", reviewer=CURATED)) == 1


def test_a_sample_report_curated_from_two_reviewers_to_exported_gold(tmp_path: Path) -> None:
    """The whole path a team takes: two reviewers' annotations of case01, a session, agreed
    spans accepted, every disagreement decided by the first reviewer's version, gold out."""
    with Store(tmp_path / "team.db") as store:
        import_paths(
            store, [SAMPLE / "case01.txt", SAMPLE / "demo_annotations.jsonl"], reviewer="x"
        )
        session, _ = team.create_session(
            store, "pilot", reviewers=["alice", "bob"], curator="carol", report_ids=["case01"]
        )
        for reviewer in session.reviewers:
            store.set_status("case01", reviewer, Status.DONE)
        alice = {(s.start, s.end, s.label) for s in store.spans("case01", reviewer="alice")}
        bob = {(s.start, s.end, s.label) for s in store.spans("case01", reviewer="bob")}
        assert alice & bob and alice != bob  # the sample has agreements and disagreements
        agreed = len(curation.auto_accept(store, "case01", "carol"))
        assert agreed == len(alice & bob)
        for cluster in curation.clusters(store, "case01"):
            if not cluster.resolved:
                curation.accept(store, cluster, "alice", "carol")
        assert curation.open_reports(store, ["case01"]) == {}
        out = tmp_path / "gold.jsonl"
        export(store, "jsonl", out, reviewer=CURATED)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    (line,) = [x for x in lines if x["spans"]]
    assert line["id"] == "case01"
    gold = {(s["start"], s["end"], s["label"]) for s in line["spans"]}
    assert gold == alice  # alice's version won every disagreement; agreed spans are hers too
    assert {s["reviewer"] for s in line["spans"]} == {CURATED}
    assert all(line["text"][s["start"] : s["end"]] == s["text"] for s in line["spans"])


def test_a_reviewers_duplicate_span_agrees_like_one(store: Store) -> None:
    """brat allows the same span twice; it is no boundary disagreement."""
    store.add_span(at("positive", "test", "a"))
    store.add_span(at("positive", "test", "a"))
    store.add_span(at("positive", "test", "b"))
    kinds = {TEXT[c.start : c.end]: c.kind for c in curation.clusters(store, "r")}
    assert kinds["positive"] == "agreed"


def test_curation_is_complete_only_when_everything_is_decided(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        with store.write():
            store.insert_reports([Report(id="empty", text="Nothing."), Report(id="r", text=TEXT)])
        for reviewer in ("a", "b"):
            store.set_status("empty", reviewer, Status.DONE)  # both found nothing: gold is empty
            store.add_span(at("ANA", "test", reviewer))
        assert curation.curation_states(store) == {"empty": "complete", "r": "not started"}
        curation.auto_accept(store, "r", "carol")
        assert curation.curation_states(store)["r"] == "complete"
        store.undo("carol")  # the agreed span taken back: the gold would lack it
        assert curation.curation_states(store)["r"] == "not started"


def test_a_reviewers_change_after_a_decision_opens_it_again(store: Store) -> None:
    """Gold must not go stale: alice marks an accepted span uncertain, or adds a span to a
    decided stretch, and the curator sees it again; taking her version updates the gold."""
    curation.auto_accept(store, "r", "carol")
    assert curation.curation_states(store, ["r"]) == {"r": "open"}  # (three disagreements)
    dup = next(s for s in store.spans("r", reviewer="a") if s.text == "Dupilumab")
    store.update_span(dup.id, "a", attributes={"uncertain": True})
    first = curation.clusters(store, "r")[0]
    assert (first.kind, first.resolved, first.stale) == ("attributes", False, True)
    (gold,) = curation.accept(store, first, "a", "carol").spans
    assert gold.attributes == {"uncertain": True}
    assert len(store.spans("r", reviewer=CURATED)) == 1  # updated, not doubled
    assert curation.clusters(store, "r")[0].resolved
    _, _, _, missing = curation.clusters(store, "r")
    curation.reject(store, missing, "carol")
    store.add_span(at("serum", "diagnosis", "b"))  # a second opinion after the rejection
    assert not curation.clusters(store, "r")[3].resolved
