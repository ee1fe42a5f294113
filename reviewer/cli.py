"""The ``reviewer`` command: a thin click layer over ``reviewer.core``.

Each command parses its options, makes one core call and prints the result. Errors the user can
act on are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import click

from reviewer import __version__
from reviewer.core.exporter import EXPORT_FORMATS, export, export_brat
from reviewer.core.formats import FORMATS as FORMAT_INFO
from reviewer.core.importer import ImportStopped, import_paths
from reviewer.core.model import ReviewerError, Status
from reviewer.core.schema import load_label_map, parse_maps
from reviewer.core.search import search_store
from reviewer.core.sources import FORMATS, ImportPlan, collect
from reviewer.core.store import Store
from reviewer.core.team import CURATED, check_known
from reviewer.core.text import has_controls, one_line

DEFAULT_DB = Path("annotations") / "reviewer.db"


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still a usable default
        return "reviewer"


class _Cli(click.Group):
    """Turns every error into one line on stderr and a non-zero exit: ours (exit 1) and click's
    usage errors (exit 2, where click would print the usage and a hint over three lines)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):  # type: ignore[override]
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ReviewerError as exc:
            raise click.ClickException(one_line(str(exc))) from None
        except BrokenPipeError:
            # The reader went away (`reviewer export | head`): stop quietly, as cat does.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except sqlite3.Error as exc:
            where = getattr(ctx.obj, "db_path", "database")
            raise click.ClickException(f"{where}: database error: {exc}") from None
        except UnicodeError as exc:
            raise click.ClickException(f"text that is not valid Unicode: {exc}") from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


offsets_option = click.option(
    "--offsets",
    type=click.Choice(["codepoints", "utf16"]),
    default="codepoints",
    show_default=True,
    help="doccano: offsets counted in UTF-16 code units, as browser tools count them.",
)


class Context:
    def __init__(self, db_path: Path, reviewer: str) -> None:
        self.db_path = db_path
        self.reviewer = reviewer

    def store(self, *, create: bool = False) -> Store:
        """The store; only an import may create a database (a mistyped --db must not)."""
        if not create and not self.db_path.exists():
            raise ReviewerError(
                f"{self.db_path}: no database here yet; create it with "
                "'reviewer import PATH' (or 'make run' for the samples)"
            )
        return Store(self.db_path)


def _name(value: str | None, option: str) -> str | None:
    """A reviewer name: stripped, not empty, no control characters."""
    if value is None:
        return None
    if not value.strip() or has_controls(value):
        raise click.BadParameter(
            "must be a non-empty name without control characters", param_hint=option
        )
    return value.strip()


@click.group(cls=_Cli, invoke_without_command=True)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REVIEWER_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="The database file (env REVIEWER_DB).",
)
@click.option(
    "--reviewer",
    "reviewer",
    envvar="REVIEWER_NAME",
    default=default_reviewer,
    help="Your reviewer name (env REVIEWER_NAME; default: your login name).",
)
@click.version_option(__version__, prog_name="reviewer")
@click.pass_context
def cli(ctx: click.Context, db_path: Path, reviewer: str) -> None:
    """Annotate clinical and pharmacovigilance case reports from the keyboard.

    Without a command, opens the app on the database.
    """
    name = _name(reviewer, "--reviewer") or ""
    if name.startswith("@"):
        raise click.BadParameter(
            "names starting with @ are kept for layers (such as @curated)", param_hint="--reviewer"
        )
    ctx.obj = Context(db_path, name)
    if ctx.invoked_subcommand is None:
        from reviewer.tui.app import run  # imported here: the other commands need no Textual

        try:
            ctx.obj.store().close()  # says clearly when there is no database yet
            run(ctx.obj.db_path, ctx.obj.reviewer)
        except ReviewerError as exc:
            raise click.ClickException(str(exc)) from None


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="How to read the files; auto goes by the path: a folder with .ann files is brat, a "
    ".jsonl is reviewer's, Prodigy's or doccano's by the keys of its first line.",
)
@click.option(
    "--reviewer",
    "override",
    default=None,
    help="Import every span as this reviewer's (default: the span's or line's own "
    "reviewer, else yours).",
)
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the files.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Skip malformed records and keep the rest of the file, counting what was skipped.",
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="Import only when the database holds no reports yet (used by make run).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="SOURCE=LABEL",
    help="Rename a source label, e.g. --map Medication=drug (repeatable).",
)
@click.option(
    "--label-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='A TOML file with a [map] table of SOURCE = "LABEL" lines '
    "(annotations/maccrobat.toml is one).",
)
@offsets_option
@click.option(
    "--new-labels",
    is_flag=True,
    help="Keep labels the schema lacks as labels of their own (brat and PubTator always do); "
    "without it such a label is an error, so a typo does not become a label.",
)
@click.option(
    "--drop-unmapped",
    is_flag=True,
    help="Drop spans whose type is neither in the schema nor mapped (brat keeps them as "
    "labels of their own otherwise).",
)
@click.pass_obj
def import_command(
    obj: Context,
    paths: tuple[Path, ...],
    fmt: str,
    override: str | None,
    encoding: str,
    skip_invalid: bool,
    if_empty: bool,
    maps: tuple[str, ...],
    label_map: Path | None,
    offsets: str,
    new_labels: bool,
    drop_unmapped: bool,
) -> None:
    """Import case reports (.txt files, folders) and annotations (JSONL).

    A report is known by its id: the JSONL "id", or a file's path relative to the folder given,
    without extension. Importing the same file again changes nothing (spans edited or deleted
    here since stay as they are). Each file is one transaction: a malformed line stops the
    import and nothing from that file is kept.
    """
    override = _name(override, "--reviewer")
    mapping = {**(load_label_map(label_map) if label_map else {}), **parse_maps(maps)}
    with obj.store(create=True) as store:
        if if_empty and store.report_count():
            click.echo(
                f"{obj.db_path} already holds {store.report_count()} reports; nothing imported.",
                err=True,
            )
            return
        plan = collect(list(paths), fmt)
        with _progress(plan) as bar:
            try:
                summary = import_paths(
                    store,
                    plan,
                    fmt=fmt,
                    reviewer=obj.reviewer,
                    reviewer_override=override,
                    encoding=encoding,
                    skip_invalid=skip_invalid,
                    progress=bar.update,
                    label_map=mapping,
                    drop_unmapped=drop_unmapped,
                    offsets=offsets,
                    new_labels=new_labels,
                )
            except ImportStopped as stop:
                if stop.summary.files:  # what earlier files brought is saved: say so
                    click.echo(
                        stop.summary.line().replace("Imported", "Before the error: imported")
                    )
                raise
    for error in summary.errors:
        click.echo(f"skipped: {error}", err=True)
    for kept in summary.kept_here:
        click.echo(one_line(f"span {kept}"), err=True)
    for detail in summary.details():
        click.echo(f"  {detail}", err=True)
    click.echo(summary.line())


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _progress(plan: ImportPlan):
    """A progress bar on stderr for long imports (many files or megabytes), only when stderr
    is a terminal."""
    total = plan.total_bytes
    if (total < 2_000_000 and len(plan.files) < 100) or not sys.stderr.isatty():
        return _NoBar()
    return click.progressbar(length=total, label="Importing", file=sys.stderr)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*EXPORT_FORMATS, "brat"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one report per line with its spans; spans: one annotation per line with "
    "context; prodigy: one task per report and reviewer; doccano: one example per report; "
    "conll: BIO tags, one token per line; "
    "brat: <id>.txt and <id>.ann files in the folder given with -o.",
)
@offsets_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write here (atomically) instead of to stdout; for brat, a folder.",
)
@click.option("--label", default=None, help="Only spans with this label.")
@click.option("--reviewer", "by_reviewer", default=None, help="Only this reviewer's spans.")
@click.option(
    "--layer",
    type=click.Choice(["curated"]),
    default=None,
    help="curated: only the curated (gold) layer, of the reports whose curation is complete "
    "(made on the curation screen or by 'reviewer curate').",
)
@click.option(
    "--unfinished",
    is_flag=True,
    help="With --layer curated: also the reports whose curation is not complete.",
)
@click.option(
    "--status",
    type=click.Choice([s.value for s in Status]),
    default=None,
    help="Only reports with this status (for --reviewer, or for anyone).",
)
@click.pass_obj
def export_command(
    obj: Context,
    fmt: str,
    output: Path | None,
    label: str | None,
    by_reviewer: str | None,
    status: str | None,
    offsets: str,
    layer: str | None,
    unfinished: bool,
) -> None:
    """Export reports and annotations."""
    report_ids = None
    if by_reviewer is not None:
        with obj.store() as store:
            check_known(store, [by_reviewer])
    if layer == "curated":
        if by_reviewer is not None:
            raise ReviewerError("give --layer curated or --reviewer, not both")
        if status is not None:
            raise ReviewerError(
                "--status is a reviewer's; the curated layer has none (its reports are those "
                "whose curation is complete)"
            )
        by_reviewer = CURATED
        if not unfinished:
            with obj.store() as store:
                report_ids = _curation_complete(store)
    elif unfinished:
        raise ReviewerError("--unfinished goes with --layer curated")
    if fmt == "brat":
        if output is None:
            raise ReviewerError("brat export writes files: give a folder with -o")
        notes: list[str] = []
        with obj.store() as store:
            n = export_brat(
                store,
                output,
                label=label,
                reviewer=by_reviewer,
                status=status,
                report_ids=report_ids,
                notes=notes,
            )
        _say_notes(notes, "their spans are not in this export")
        click.echo(f"Wrote {n} report{'s' * (n != 1)} as .txt/.ann to {output}.", err=True)
        return
    notes = []
    with obj.store() as store:
        n = export(
            store,
            fmt,
            output,
            offsets=offsets,
            notes=notes,
            label=label,
            reviewer=by_reviewer,
            status=status,
            report_ids=report_ids,
        )
    _say_notes(notes, f"{fmt} holds one layer; try --reviewer")
    if output is not None:
        click.echo(f"Wrote {n} line{'s' * (n != 1)} to {output}.", err=True)


def _curation_complete(store: Store) -> set[str]:
    """The reports whose curation is complete; says on stderr which are left out."""
    from reviewer.core.curation import curation_states

    states = curation_states(store)
    left = Counter(state for state in states.values() if state != "complete")
    if left:
        parts = ", ".join(f"{n} {state}" for state, n in sorted(left.items()))
        click.echo(
            f"Curated layer: {sum(left.values())} reports left out, their curation not "
            f"complete ({parts}); --unfinished writes them too.",
            err=True,
        )
    return {rid for rid, state in states.items() if state == "complete"}


def _say_notes(notes: list[str], why: str) -> None:
    """What an export could not write, on stderr: a count, the first 20, and why."""
    if not notes:
        return
    click.echo(f"{len(notes)} item{'s' * (len(notes) != 1)} not written ({why}):", err=True)
    for note in notes[:20]:
        click.echo(f"  {note}", err=True)
    if len(notes) > 20:
        click.echo(f"  ... and {len(notes) - 20} more", err=True)


@cli.command("formats")
def formats_command() -> None:
    """The formats reviewer reads and writes, and what each can carry."""
    columns = ("spans", "attributes", "notes", "relations", "discontinuous")
    click.echo(f"{'format':<9} {'in':<3} {'out':<4} " + " ".join(f"{c:<13}" for c in columns))
    for info in FORMAT_INFO:
        marks = " ".join(f"{'yes' if getattr(info, c) else '-':<13}" for c in columns)
        inout = f"{'yes' if info.read else '-':<3} {'yes' if info.write else '-':<4}"
        click.echo(f"{info.name:<9} {inout} {marks}".rstrip())
    click.echo("")
    for info in FORMAT_INFO:
        click.echo(f"{info.name:<9} {info.description}")


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def stats_command(obj: Context, as_json: bool) -> None:
    """Counts of reports, and of spans per label, reviewer and status."""
    with obj.store() as store:
        stats = store.stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{stats['reports']} reports ({stats['duplicates']} duplicates), {stats['spans']} spans"
    )
    for title, counts in (("label", stats["labels"]), ("reviewer", stats["reviewers"])):
        if counts:
            click.echo(f"\nspans by {title}:")
            width = max(20, *(len(key) for key in counts))
            for key, n in counts.items():
                click.echo(f"  {key:<{width}} {n:>8}")
    if stats["status"]:
        click.echo("\nstatus by reviewer:")
        for reviewer, counts in stats["status"].items():
            parts = ", ".join(f"{s} {n}" for s, n in counts.items())
            click.echo(f"  {reviewer:<20} {parts}")


@cli.command("search")
@click.argument("query")
@click.option("--text", "in_text", is_flag=True, help="Search the report text, not the spans.")
@click.option("--label", help="Only spans with this label (same as label:L in the query).")
@click.option("--reviewer", "only", help="Only this reviewer's spans (reviewer:NAME).")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=20,
    show_default=True,
    help="At most this many groups (spans) or places (--text).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hit.")
@click.pass_obj
def search_command(
    obj: Context,
    query: str,
    in_text: bool,
    label: str | None,
    only: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Fuzzy search of the annotated spans, or with --text of the reports.

    QUERY may hold filters: label:drug, reviewer:NAME, status:done."""
    with obj.store() as store:
        hits = search_store(
            store, query, text=in_text, label=label, reviewer=only, limit=limit, viewer=obj.reviewer
        )
    if as_json:
        for hit in hits:
            click.echo(json.dumps(hit, ensure_ascii=False))
        return
    if not hits:
        click.echo("no match", err=True)
        return
    if in_text:
        for hit in hits:
            tagged = ", ".join(hit["tagged"]) or "not tagged"
            click.echo(
                f"{hit['score']:5.1f}  {one_line(hit['report_id'])}:{hit['start']}-{hit['end']}"
                f"  {one_line(hit['text'])}  ({one_line(tagged)})"
            )
        return
    groups: dict[int, list[dict]] = {}
    for hit in hits:
        groups.setdefault(hit["group"], []).append(hit)
    for rows in groups.values():
        labels = Counter(r["label"] for r in rows)
        reviewers = sorted({r["reviewer"] for r in rows})
        reports = sorted({r["report_id"] for r in rows})
        click.echo(
            f"{rows[0]['score']:5.1f}  {one_line(rows[0]['text'])}  "
            + one_line(", ".join(f"{lab} {n}" for lab, n in labels.most_common()))
            + f"  · {len(rows)} in {len(reports)} report{'s' * (len(reports) != 1)}: "
            + one_line(", ".join(reports[:5]) + (" …" if len(reports) > 5 else ""))
            + f"  · {one_line(', '.join(reviewers))}"
        )


from reviewer import cli_team  # noqa: E402, F401  (registers assign, session, agreement...)


def main() -> None:
    cli(prog_name="reviewer")
