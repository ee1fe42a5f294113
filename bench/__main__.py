"""Run the benchmarks: ``make bench`` (or ``python -m bench [--reports N --spans M]``).

Each figure is printed next to a raw baseline measured in the same run on the same data, with
the ratio, because this machine is shared and absolute times drift.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.app import bench_app
from bench.corpus import write_corpus
from bench.search import bench_search
from reviewer.core.exporter import export, export_brat
from reviewer.core.importer import import_paths
from reviewer.core.store import CACHE_KIB, Store


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def raw_import(db: Path, records: list[dict], fts: bool = True) -> None:
    """Baseline: the same rows into the same schema with executemany, one transaction, and
    the text indexed by one INSERT ... SELECT (the fastest way SQLite offers)."""
    Store(db).close()  # same tables, indexes and FTS table
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER reports_fts_insert")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # as the store sets it
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO reports (id, text, length, sha256, imported_at) VALUES (?, ?, ?, '', '')",
        ((r["id"], r["text"], len(r["text"])) for r in records),
    )
    conn.executemany(
        "INSERT INTO spans (id, report_id, start_char, end_char, label, text, reviewer, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'bench', '', '')",
        (
            (
                f"{r['id']}-{i}",
                r["id"],
                s["start"],
                s["end"],
                s["label"],
                r["text"][s["start"] : s["end"]],
            )
            for r in records
            for i, s in enumerate(r["spans"])
        ),
    )
    if fts:
        conn.execute("INSERT INTO reports_fts(rowid, text) SELECT seq, text FROM reports")
    conn.execute("COMMIT")
    conn.close()


def raw_export(db: Path, out: Path) -> None:
    """Baseline: read the rows and json.dumps one line per report."""
    conn = sqlite3.connect(db)
    spans: dict[str, list] = {}
    for row in conn.execute(
        "SELECT report_id, id, start_char, end_char, label, text, reviewer "
        "FROM spans ORDER BY report_id, start_char"
    ):
        spans.setdefault(row[0], []).append(
            {
                "id": row[1],
                "start": row[2],
                "end": row[3],
                "label": row[4],
                "text": row[5],
                "reviewer": row[6],
            }
        )
    with out.open("w", encoding="utf-8") as f:
        for rid, text in conn.execute("SELECT id, text FROM reports ORDER BY seq"):
            f.write(
                json.dumps(
                    {"id": rid, "text": text, "spans": spans.get(rid, [])}, ensure_ascii=False
                )
                + "\n"
            )
    conn.close()


def line(name: str, ours: float, base: float, target: float) -> None:
    verdict = "met" if ours <= target else "MISSED"
    print(
        f"  {name:<24} {ours:7.2f} s   baseline {base:7.2f} s   ratio {ours / base:4.2f}x   "
        f"target <= {target:g} s: {verdict}"
    )


MACCROBAT = Path(__file__).resolve().parents[2] / "shared/corpora/maccrobat2020/MACCROBAT2020"


def bench_brat(tmp: Path) -> None:
    """brat import and export of MACCROBAT2020, next to reading the same files raw."""
    if not MACCROBAT.is_dir():
        print(f"brat: skipped, {MACCROBAT} is absent")
        return
    files = sorted(MACCROBAT.iterdir())
    raw, _ = timed(lambda: [f.read_text(encoding="utf-8").split("\n") for f in files])
    store = Store(tmp / "brat.db")
    took, summary = timed(lambda: import_paths(store, [MACCROBAT], reviewer="bench"))
    out, n = timed(lambda: export_brat(store, tmp / "brat-out"))
    store.close()
    print(
        f"brat (MACCROBAT2020): {summary.reports} reports, {summary.spans:,} spans, "
        f"{sum(summary.kept.values()):,} kept lines"
    )
    print(
        f"  import {took:6.2f} s  ({summary.reports / took:6.0f} reports/s)   "
        f"export {out:6.2f} s  ({n / out:6.0f} reports/s)   reading the files raw {raw:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument(
        "--app-only", action="store_true", help="only the app's figures (keys, opening, startup)"
    )
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="only the search figures (span index, span and text search, at 10k and 100k reports)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if args.app_only:
            bench_app(d)
            return
        if args.search_only:
            bench_search(d)
            return
        corpus = d / "corpus.jsonl"
        records = write_corpus(corpus, args.reports, args.spans)
        mb = corpus.stat().st_size / 1e6
        print(f"import/export: {args.reports:,} reports, {args.spans:,} spans, {mb:.1f} MB JSONL")
        base_import, _ = timed(lambda: raw_import(d / "raw.db", records))
        no_fts, _ = timed(lambda: raw_import(d / "raw-nofts.db", records, fts=False))
        store = Store(d / "bench.db")
        ours_import, summary = timed(lambda: import_paths(store, [corpus], reviewer="bench"))
        assert summary.reports == args.reports and summary.spans == args.spans, summary.line()
        line("import (with FTS index)", ours_import, base_import, 5)
        print(
            f"  {'':<24} (baseline without the FTS trigram index: {no_fts:.2f} s, so indexing "
            f"the text costs {base_import - no_fts:.2f} s of it)"
        )
        base_export, _ = timed(lambda: raw_export(d / "bench.db", d / "raw.jsonl"))
        ours_export, _ = timed(lambda: export(store, "jsonl", d / "export.jsonl"))
        line("export jsonl", ours_export, base_export, 1)
        store.close()
        bench_brat(d)
        # The app's startup figure is for 10,000 reports: reuse the database when it has them.
        bench_app(d, d / "bench.db" if args.reports == 10_000 else None)
        # The search figures start at 10,000 reports: reuse the database when it is that corpus.
        default = args.reports == 10_000 and args.spans == 200_000
        bench_search(d, d / "bench.db" if default else None, ours_import if default else None)


if __name__ == "__main__":
    main()
