"""The team commands through click's CliRunner: assign, session, agreement, curate, merge, and
export --layer curated, with their error paths (one line, no traceback)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reviewer.core.store import Store
from reviewer.core.team import CURATED
from tests.test_cli import DEMO_LINES, N_REPORTS, SAMPLE, _isolated, ok, run  # noqa: F401

ANNOTATED = sorted({line["id"] for line in DEMO_LINES})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ws" / "reviewer.db"
    ok(path, "import", str(SAMPLE))
    return path


def fails(db: Path, *args: str, reviewer: str = "tester") -> str:
    result = run(db, *args, reviewer=reviewer)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_assign_balances_and_is_idempotent(db: Path) -> None:
    out = ok(db, "assign", "--reviewers", "a,b,c", "--per-report", "2").output
    assert out.startswith(f"{N_REPORTS} reports: {2 * N_REPORTS} assignments added")
    again = ok(db, "assign", "--reviewers", "a,b,c", "--per-report", "2").output
    assert f"0 assignments added, {2 * N_REPORTS} already there" in again
    assert "per-report" in fails(db, "assign", "--reviewers", "a,b", "--per-report", "3")
    assert "no report with id 'nope'" in fails(
        db, "assign", "--reviewers", "a,b", "--reports", "nope"
    )
    assert "named twice" in fails(db, "assign", "--reviewers", "a,a")


def test_a_session_from_creation_to_its_report(db: Path) -> None:
    out = ok(
        db,
        "session",
        "create",
        "pilot",
        "--reviewers",
        "alice,bob",
        "--curator",
        "carol",
        "--reports",
        ",".join(ANNOTATED),
    ).output
    assert f"session pilot (blind): {len(ANNOTATED)} reports" in out
    assert ok(db, "session", "list").output.startswith("pilot  blind")
    report = ok(db, "session", "report", "pilot").output
    assert report.startswith("# Session pilot")
    assert "| alice |" in report and "Cohen" in report and "Krippendorff" in report
    data = json.loads(ok(db, "session", "report", "pilot", "--json").output)
    assert data["reports"] == len(ANNOTATED) and set(data["reviewers"]) == {"alice", "bob"}
    assert data["reviewers"]["alice"]["assigned"] == len(ANNOTATED)
    assert data["reports_with_open_disagreements"] == len(data["open"]) > 0
    assert "no session named 'other'" in fails(db, "session", "report", "other")
    assert "already a session" in fails(
        db, "session", "create", "pilot", "--reviewers", "a,b", "--curator", "c"
    )


def test_agreement_prints_figures_and_json(db: Path) -> None:
    text = ok(db, "agreement").output
    assert "alice" in text and "bob" in text and "exact F1" in text
    data = json.loads(ok(db, "agreement", "--json", "--label", "drug").output)
    assert data["label"] == "drug" and data["reviewers"] == ["alice", "bob"]
    json.dumps(data, allow_nan=False)
    assert "unknown label 'potion'" in fails(db, "agreement", "--label", "potion")


def test_curate_then_export_the_curated_layer(db: Path, tmp_path: Path) -> None:
    ok(db, "session", "create", "s", "--reviewers", "alice,bob", "--curator", "carol")
    out = ok(db, "curate", "--session", "s", reviewer="carol").output
    accepted = int(out.split()[0])
    assert accepted > 0 and "disagreements to decide" in out
    assert ok(db, "curate", "--session", "s", reviewer="carol").output.startswith("0 agreed")
    gold = tmp_path / "gold.jsonl"
    result = ok(db, "export", "--layer", "curated", "-o", str(gold))
    # Reports with disagreements still open are no gold yet: left out, and said so.
    assert "reports left out, their curation not complete" in result.output
    assert gold.read_text(encoding="utf-8") == ""
    ok(db, "export", "--layer", "curated", "--unfinished", "-o", str(gold))
    spans = [
        s
        for line in gold.read_text(encoding="utf-8").splitlines()
        for s in json.loads(line)["spans"]
    ]
    assert len(spans) == accepted and {s["reviewer"] for s in spans} == {CURATED}
    assert "not both" in fails(db, "export", "--layer", "curated", "--reviewer", "bob")
    assert "goes with --layer curated" in fails(db, "export", "--unfinished")


def test_a_report_whose_curation_is_complete_is_exported_as_gold(db: Path, tmp_path: Path) -> None:
    from reviewer.core import curation

    with Store(db) as store:
        for cluster in curation.clusters(store, "case01"):
            if cluster.kind == "agreed":
                continue
            curation.accept(store, cluster, "alice", "carol")
        curation.auto_accept(store, "case01", "carol")
        assert curation.curation_states(store, ["case01", "case02"]) == {
            "case01": "complete",
            "case02": "not started",
        }
    gold = tmp_path / "gold.jsonl"
    ok(db, "export", "--layer", "curated", "-o", str(gold))
    (line,) = [json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines()]
    assert line["id"] == "case01" and line["spans"]


def test_merge_reports_conflicts_and_is_idempotent(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "laptop.db"
    shutil.copy(db, other)
    with Store(db) as ours, Store(other) as theirs:
        span = ours.spans(reviewer="alice")[0]
        ours.update_span(span.id, "alice", note="here")
        theirs.update_span(span.id, "alice", note="there, later")
    result = run(db, "merge", str(other))
    assert result.exit_code == 0, result.output
    assert f"conflict: {span.report_id}" in result.output and "kept theirs (later)" in result.output
    assert "merged: 0 reports, 0 spans added, 1 updated" in result.output
    again = ok(db, "merge", str(other)).output
    assert "0 updated" in again and "0 conflicts" in again
    assert "not a reviewer database" in fails(db, "merge", str(SAMPLE / "case01.txt"))


def test_layer_names_cannot_be_taken_by_people(db: Path) -> None:
    result = run(db, "stats", reviewer="@curated")
    assert result.exit_code == 2 and "kept for layers" in result.output


def test_only_the_sessions_curator_curates_it(db: Path) -> None:
    """A reviewer of a blind session must not see the others' spans by curating."""
    ok(db, "session", "create", "s", "--reviewers", "alice,bob", "--curator", "carol")
    assert "carol curates session s, not alice" in fails(
        db, "curate", "--session", "s", reviewer="alice"
    )
    result = run(db, "curate", reviewer="alice")  # every report: the session's are left out
    assert result.exit_code == 0 and result.output.startswith("0 agreed spans accepted")
    assert "left to them" in result.output
    with Store(db) as store:
        assert store.spans(reviewer=CURATED) == []


def test_search_keeps_a_blind_session_blind(db: Path) -> None:
    from reviewer.core.model import Status

    ok(db, "session", "create", "s", "--reviewers", "alice,bob", "--curator", "carol")
    with Store(db) as store:
        mine = {s.text.casefold() for s in store.spans(reviewer="bob")}
        theirs = next(s for s in store.spans(reviewer="alice") if s.text.casefold() not in mine)
    query = ["search", theirs.text, "--json", "--limit", "100"]

    def alices(reviewer: str) -> list[dict]:
        hits = [json.loads(x) for x in ok(db, *query, reviewer=reviewer).output.splitlines()]
        return [h for h in hits if h["report_id"] == theirs.report_id and h["reviewer"] == "alice"]

    assert alices("bob") == []  # bob has not finished that report: alice's spans stay hidden
    assert alices("carol")  # the curator sees everything
    with Store(db) as store:
        store.set_status(theirs.report_id, "bob", Status.DONE)
    assert alices("bob")


def test_a_mistyped_reviewer_is_an_error_not_an_empty_result(db: Path) -> None:
    assert "no reviewer named 'alise' here (reviewers: alice, bob)" in fails(
        db, "agreement", "--reviewers", "alice,alise"
    )
    assert "needs two reviewers" in fails(db, "agreement", "--reviewers", "alice")
    assert "no reviewer named 'nosuch'" in fails(db, "export", "--reviewer", "nosuch")


def test_done_only_counts_finished_work(db: Path) -> None:
    from reviewer.core.model import Status

    ok(db, "session", "create", "s", "--reviewers", "alice,bob", "--curator", "carol")
    assert "needs two reviewers" in fails(db, "agreement", "--done-only")
    with Store(db) as store:
        for reviewer in ("alice", "bob"):
            store.set_status(ANNOTATED[0], reviewer, Status.DONE)
        store.set_status(ANNOTATED[1], "alice", Status.DONE)  # bob still at work there
    data = json.loads(ok(db, "agreement", "--done-only", "--json").output)
    assert data["pairs"][0]["reports"] == 1  # only the report both finished is compared
    assert list(data["reports"]) == ANNOTATED[:2]
    everything = json.loads(ok(db, "agreement", "--json").output)
    assert everything["pairs"][0]["reports"] == len(ANNOTATED)
    report = json.loads(ok(db, "session", "report", "s", "--done-only", "--json").output)
    assert report["agreement"]["pairs"][0]["reports"] == 1


def test_a_team_members_jsonl_export_imports_by_span_id_and_loses_nothing(
    db: Path, tmp_path: Path
) -> None:
    """Their export, imported twice, changes nothing the second time; a span edited here
    and different in their file stays as edited here, and their version goes to the log and
    is listed."""
    theirs = tmp_path / "theirs.jsonl"
    ok(db, "export", "-o", str(theirs))
    with Store(db) as store:
        span = store.spans(reviewer="alice")[0]
        store.update_span(span.id, "alice", note="checked here")
    lines = [json.loads(x) for x in theirs.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        for s in line["spans"]:
            if s["id"] == span.id:
                s["note"] = "their note"
    theirs.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    first = ok(db, "import", str(theirs))
    assert "edited here, kept" in first.output and span.id in first.output
    assert "note ('checked here' here, 'their note' in the file)" in first.output
    with Store(db) as store:
        assert store.get_span(span.id).note == "checked here"
        logged = [
            e
            for e in store.events()
            if e["span_id"] == span.id and "their note" in (e["before"] or "")
        ]
        assert len(logged) == 1
        count = len(store.events())
    again = ok(db, "import", str(theirs))
    assert "1 spans kept as edited here" in again.output
    with Store(db) as store:
        assert len(store.events()) == count  # nothing logged twice


def test_session_progress_counts_assignments_made_before_the_session(db: Path) -> None:
    ok(db, "assign", "--reviewers", "alice,bob", "--per-report", "2")
    ok(db, "session", "create", "s", "--reviewers", "alice,bob", "--curator", "carol")
    data = json.loads(ok(db, "session", "report", "s", "--json").output)
    assert data["reviewers"]["alice"]["assigned"] == N_REPORTS
    assert "has none" in fails(db, "export", "--layer", "curated", "--status", "done")
