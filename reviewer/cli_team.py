"""The team commands of ``reviewer``: assign, session, agreement, curate, merge.

Registered on the ``reviewer`` group by :mod:`reviewer.cli`; thin like the others: parse,
one core call, print.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from reviewer.cli import Context, cli
from reviewer.core import curation, team
from reviewer.core.agreement import compute, render_markdown
from reviewer.core.merge import merge
from reviewer.core.model import ReviewerError
from reviewer.core.text import one_line


def _ids(values: tuple[str, ...]) -> list[str] | None:
    """Report ids from repeated or comma-separated ``--reports`` (None: every report)."""
    ids = [i.strip() for v in values for i in v.split(",") if i.strip()]
    return ids or None


reports_option = click.option(
    "--reports",
    multiple=True,
    help="Only these report ids (comma-separated or repeated; default: every report).",
)


done_option = click.option(
    "--done-only",
    is_flag=True,
    help="Count a reviewer's work on a report only once they marked it done (work under way "
    "would lower the figures; in a blind session this is the honest measure).",
)


@cli.command("assign")
@click.option("--reviewers", required=True, help="The reviewers, comma-separated: a,b,c.")
@click.option(
    "--per-report",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="How many reviewers annotate each report.",
)
@reports_option
@click.pass_obj
def assign_command(obj: Context, reviewers: str, per_report: int, reports: tuple[str, ...]) -> None:
    """Give each report to N reviewers, balanced.

    Each reviewer's queue in the app then shows the reports assigned to them. Assignments
    already made count and stay: running it again adds nothing."""
    with obj.store() as store:
        summary = team.assign(store, team.parse_names(reviewers), per_report, _ids(reports))
    click.echo(one_line(summary.line()))


@cli.group("session")
def session_group() -> None:
    """Curation sessions: a name, its reports, its reviewers and its curator."""


@session_group.command("create")
@click.argument("name")
@click.option("--reviewers", required=True, help="The session's reviewers: a,b,c.")
@click.option("--curator", required=True, help="Who adjudicates into the curated layer.")
@click.option(
    "--per-report",
    type=click.IntRange(1),
    default=None,
    help="Reviewers per report (default: every reviewer annotates every report).",
)
@reports_option
@click.option(
    "--open",
    "not_blind",
    is_flag=True,
    help="Let reviewers see each other's spans at once (sessions are blind by default: "
    "others' spans show once you mark a report done).",
)
@click.pass_obj
def session_create(
    obj: Context,
    name: str,
    reviewers: str,
    curator: str,
    per_report: int | None,
    reports: tuple[str, ...],
    not_blind: bool,
) -> None:
    """Create a session and assign its reports."""
    with obj.store() as store:
        session, summary = team.create_session(
            store,
            name,
            reviewers=team.parse_names(reviewers),
            curator=curator,
            report_ids=_ids(reports),
            per_report=per_report,
            blind=not not_blind,
        )
    mode = "blind" if session.blind else "open"
    click.echo(
        one_line(
            f"session {session.name} ({mode}): {len(session.report_ids)} reports, reviewers "
            f"{', '.join(session.reviewers)}, curator {session.curator}; {summary.line()}"
        )
    )


@session_group.command("list")
@click.pass_obj
def session_list(obj: Context) -> None:
    """The sessions, with their reviewers and curator."""
    with obj.store() as store:
        sessions = [team.get_session(store, n) for n in team.session_names(store)]
    if not sessions:
        click.echo("no sessions yet (create one with 'reviewer session create')", err=True)
    for s in sessions:
        click.echo(
            one_line(
                f"{s.name}  {'blind' if s.blind else 'open'}  {len(s.report_ids)} reports  "
                f"reviewers {', '.join(s.reviewers)}  curator {s.curator}"
            )
        )


@session_group.command("report")
@click.argument("name")
@done_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
@click.pass_obj
def session_report(obj: Context, name: str, done_only: bool, as_json: bool) -> None:
    """A session's progress, agreement and time spent (Markdown, or --json)."""
    with obj.store() as store:
        session = team.get_session(store, name)
        progress = team.session_progress(store, session)
        items = team.report_layers(
            store, session.report_ids, session.reviewers, done_only=done_only
        )
        agreement = compute(items, reviewers=session.reviewers)
        open_reports = curation.open_reports(store, session.report_ids, session.reviewers)
        states = curation.curation_states(store, session.report_ids, session.reviewers)
    progress["reports_with_open_disagreements"] = len(open_reports)
    progress["curation"] = {
        state: sum(1 for s in states.values() if s == state)
        for state in ("complete", "open", "not started")
    }
    if as_json:
        out = {**progress, "agreement": agreement.to_dict(), "open": open_reports}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    click.echo(_progress_markdown(progress, open_reports))
    click.echo("")
    # One document: the agreement's headings go one level down.
    click.echo(
        "\n".join(
            "#" + line if line.startswith("#") else line
            for line in render_markdown(agreement).splitlines()
        )
    )


def _progress_markdown(p: dict, open_reports: dict[str, int]) -> str:
    c = p["curation"]
    lines = [
        f"# Session {one_line(p['session'])}",
        "",
        f"{p['reports']} reports, curator {one_line(p['curator'])}, "
        f"{'blind' if p['blind'] else 'open'}. Curation: {c['complete']} complete, "
        f"{c['open']} under way, {c['not started']} not started; "
        f"{p['reports_with_open_disagreements']} with disagreements to decide"
        + (
            ": " + one_line(", ".join(f"{rid} ({n})" for rid, n in open_reports.items()))
            if open_reports
            else ""
        )
        + ".",
        "",
        "## Progress",
        "",
        "| reviewer | assigned | done | in progress | flagged | to do | time spent |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in p["reviewers"].items():
        minutes = r["seconds_spent"] / 60
        lines.append(
            f"| {one_line(name)} | {r['assigned']} | {r['done']} | {r['in_progress']} | "
            f"{r['flagged']} | {r['todo']} | {minutes:.1f} min |"
        )
    return "\n".join(lines)


@cli.command("agreement")
@click.option("--reviewers", default=None, help="Only these reviewers: a,b (default: all).")
@click.option("--label", default=None, help="Only this label.")
@click.option("--session", "session_name", default=None, help="Only this session's reports.")
@reports_option
@done_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of Markdown.")
@click.pass_obj
def agreement_command(
    obj: Context,
    reviewers: str | None,
    label: str | None,
    session_name: str | None,
    reports: tuple[str, ...],
    done_only: bool,
    as_json: bool,
) -> None:
    """Agreement between reviewers, overall and per label, pair and report.

    Span F1 (exact and overlap match), Cohen's kappa per pair, Fleiss' kappa and
    Krippendorff's alpha (nominal), the last three on tokens. A reviewer has annotated a report
    when they marked it done or tagged anything in it."""
    with obj.store() as store:
        names = team.parse_names(reviewers) if reviewers else None
        ids = _ids(reports)
        if session_name is not None:
            session = team.get_session(store, session_name)
            ids = list(session.report_ids) if ids is None else ids
            names = names or list(session.reviewers)
        if label is not None:
            label = store.labels.spelled(label)
        if names is not None:
            team.check_known(store, names)
        items = team.report_layers(store, ids, names, done_only=done_only)
    who = names or sorted({r for item in items for r in item.layers})
    if len(who) < 2:
        raise ReviewerError(
            f"agreement needs two reviewers with annotations; here: {', '.join(who) or 'none'}"
        )
    result = compute(items, reviewers=names, label=label)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_markdown(result))


@cli.command("curate")
@click.option("--session", "session_name", default=None, help="Only this session's reports.")
@reports_option
@click.pass_obj
def curate_command(obj: Context, session_name: str | None, reports: tuple[str, ...]) -> None:
    """Accept the spans every reviewer agrees on into the curated layer.

    Agreed means the same offsets and label from every reviewer who annotated the report.
    You (--reviewer) are recorded as the curator; the disagreements wait for the curation
    screen."""
    with obj.store() as store:
        ids = _ids(reports)
        names = None
        if session_name is not None:
            session = team.get_session(store, session_name)
            team.check_curator(store, obj.reviewer, session)
            ids = ids or list(session.report_ids)
            names = list(session.reviewers)
        team.check_curator(store, obj.reviewer)
        others = team.curated_elsewhere(store, obj.reviewer)
        ids = ids or store.report_ids()
        skipped = sorted({others[r] for r in ids if r in others})
        ids = [r for r in ids if r not in others]
        added = sum(len(curation.auto_accept(store, rid, obj.reviewer, names)) for rid in ids)
        still = curation.open_reports(store, ids, names)
    click.echo(
        f"{added} agreed span{'s' * (added != 1)} accepted into the curated layer; "
        f"{len(still)} report{'s' * (len(still) != 1)} with disagreements to decide"
    )
    if skipped:
        click.echo(
            one_line(f"(reports of sessions curated by {', '.join(skipped)} were left to them)"),
            err=True,
        )


@cli.command("merge")
@click.argument("other", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def merge_command(obj: Context, other: Path) -> None:
    """Add another reviewer database's work to this one.

    Its reports, spans, statuses, assignments, sessions and curation come in. Spans are matched
    by id: merging twice changes nothing. When a span changed on both
    sides the later change wins; the other is kept in the event log and listed here."""
    with obj.store() as store:
        summary = merge(store, other, obj.reviewer)
    for conflict in summary.conflicts:
        click.echo(one_line(f"conflict: {conflict}"), err=True)
    click.echo(one_line(summary.line()))
