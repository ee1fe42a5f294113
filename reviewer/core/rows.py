"""Rows to objects and back: the column lists, conversions and bulk inserts that the store,
the importer and the exporter share. Plain functions over a ``sqlite3.Connection``, so any
connection (the store's, or another thread's) can use them."""

from __future__ import annotations

import contextlib
import gc
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from reviewer.core.migrations import FTS_INSERT_TRIGGER
from reviewer.core.model import Report, Span, now_iso


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk work (a file imported, the search index
    built): it makes hundreds of thousands of small objects and no cycles, and every full
    collection would walk them all (and everything else the process holds). Reference
    counting still frees as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


SPAN_COLUMNS = (
    "id, report_id, start_char, end_char, label, text, reviewer, attributes, note, "
    "created_at, updated_at, fragments, refs, source_id"
)
SPAN_PLACEHOLDERS = ",".join("?" * 14)
# Every column of these tables, in table order: inserts (import, merge) name them all.
RELATION_COLUMNS = (
    "id",
    "report_id",
    "type",
    "arg1_role",
    "arg1",
    "arg2_role",
    "arg2",
    "reviewer",
    "source_id",
    "created_at",
)
# What a relation says in an export (by report): its columns but the report and the time.
RELATION_FIELDS = tuple(c for c in RELATION_COLUMNS if c not in ("report_id", "created_at"))
KEPT_LINE_COLUMNS = ("report_id", "reviewer", "format", "position", "kind", "line")


def insert_sql(table: str, columns: tuple[str, ...], verb: str = "") -> str:
    """``INSERT [verb] INTO table (columns) VALUES (?, ...)``; ``verb`` such as ``OR IGNORE``."""
    marks = ", ".join("?" * len(columns))
    return f"INSERT {verb} INTO {table} ({', '.join(columns)}) VALUES ({marks})"


REPORT_COLUMNS = (
    "id, text, source, title, journal, published, doi, authors, meta, sha256, imported_at, "
    "duplicate_of"
)


def span_from_row(row: sqlite3.Row | tuple) -> Span:
    """A ``Span`` from a row selected with ``SPAN_COLUMNS``."""
    sid, rid, start, end, label, text, reviewer, attrs, note, created, updated, *more = row
    fragments, refs, source_id = more
    return Span(
        report_id=rid,
        start=start,
        end=end,
        label=label,
        text=text,
        reviewer=reviewer,
        id=sid,
        attributes=json.loads(attrs) if attrs != "{}" else {},
        note=note,
        created_at=created,
        updated_at=updated,
        fragments=tuple(tuple(f) for f in json.loads(fragments)) if fragments else (),
        refs=json.loads(refs) if refs else [],
        source_id=source_id,
    )


def report_from_row(row: sqlite3.Row | tuple) -> Report:
    """A ``Report`` from a row selected with ``REPORT_COLUMNS``."""
    rid, text, source, title, journal, published, doi, authors, meta, sha, at, dup = row
    return Report(
        id=rid,
        text=text,
        source=source,
        title=title,
        journal=journal,
        published=published,
        doi=doi,
        authors=tuple(json.loads(authors)),
        meta=json.loads(meta),
        sha256=sha,
        imported_at=at,
        duplicate_of=dup,
    )


def span_json(span: Span | None) -> str | None:
    """A span as the JSON kept in the event log: every field, times included."""
    return None if span is None else json.dumps(asdict(span), ensure_ascii=False)


def span_from_json(data: str | None) -> Span | None:
    """The inverse of :func:`span_json`."""
    return None if data is None else Span(**json.loads(data))


def span_params(span: Span) -> tuple:
    return (
        span.id,
        span.report_id,
        span.start,
        span.end,
        span.label,
        span.text,
        span.reviewer,
        json.dumps(span.attributes, ensure_ascii=False, sort_keys=True)
        if span.attributes
        else "{}",
        span.note,
        span.created_at,
        span.updated_at,
        json.dumps([list(f) for f in span.fragments]) if span.fragments else "",
        json.dumps(span.refs, ensure_ascii=False) if span.refs else "",
        span.source_id,
    )


# Below this many rows the FTS trigger indexes each; above, one statement indexes them all.
_BULK_REPORTS = 64


def insert_reports(conn: sqlite3.Connection, reports: Iterable[Report]) -> None:
    """Insert report rows and index their text, inside the caller's transaction."""
    reports = list(reports)
    if len(reports) < _BULK_REPORTS:
        _insert_report_rows(conn, reports)
        return
    assert conn.in_transaction, "a bulk insert swaps the FTS trigger: it needs a transaction"
    (last,) = conn.execute("SELECT coalesce(max(seq), 0) FROM reports").fetchone()
    conn.execute("DROP TRIGGER reports_fts_insert")
    _insert_report_rows(conn, reports)
    conn.execute(
        "INSERT INTO reports_fts(rowid, text) SELECT seq, text FROM reports WHERE seq > ?",
        (last,),
    )
    conn.execute(FTS_INSERT_TRIGGER)


def _insert_report_rows(conn: sqlite3.Connection, reports: list[Report]) -> None:
    conn.executemany(
        "INSERT INTO reports (id, source, title, journal, published, doi, authors, meta, "
        "text, length, sha256, duplicate_of, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                r.id,
                r.source,
                r.title,
                r.journal,
                r.published,
                r.doi,
                "[]" if r.authors == () else json.dumps(list(r.authors), ensure_ascii=False),
                "{}"
                if type(r.meta) is dict and not r.meta
                else json.dumps(r.meta, ensure_ascii=False),
                r.text,
                len(r.text),
                r.sha256,
                r.duplicate_of,
                r.imported_at,
            )
            for r in reports
        ),
    )


def insert_spans(conn: sqlite3.Connection, spans: Iterable[Span]) -> None:
    insert_span_rows(conn, (span_params(s) for s in spans))


def insert_span_rows(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """Insert spans already in the :func:`span_params` form (the import's fast path builds
    these directly), inside the caller's transaction."""
    conn.executemany(f"INSERT INTO spans ({SPAN_COLUMNS}) VALUES ({SPAN_PLACEHOLDERS})", rows)


def log_action(
    conn: sqlite3.Connection, reviewer: str, kind: str, target: int | None, summary: str
) -> int:
    """Append one action to the log; returns its id."""
    cur = conn.execute(
        "INSERT INTO actions (at, reviewer, kind, target, summary) VALUES (?, ?, ?, ?, ?)",
        (now_iso(), reviewer, kind, target, summary),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def where_clause(table: str = "", **filters: str | None) -> tuple[str, list[str]]:
    """``WHERE column = ? AND ...`` for the filters that are not None (columns of ``table``,
    an alias, when given), and the parameters."""
    prefix = f"{table}." if table else ""
    parts = [f"{prefix}{column} = ?" for column, value in filters.items() if value is not None]
    params = [value for value in filters.values() if value is not None]
    return ("WHERE " + " AND ".join(parts) if parts else ""), params
