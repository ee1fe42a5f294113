"""Nothing acknowledged is lost: a writer killed with SIGKILL mid-stream, and two processes
writing to one database at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from reviewer.core.importer import import_paths
from reviewer.core.store import Store

WRITER = textwrap.dedent(
    """
    import sys
    from reviewer.core.model import Span
    from reviewer.core.store import Store

    db, reviewer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = Store(db)
    text = store.report("words").text
    for i in range(count):
        start = (i * 6) % (len(text) - 5)
        result = store.add_span(Span("words", start, start + 5, "drug",
                                     text[start:start + 5], reviewer))
        # Printed only after add_span returned, i.e. after COMMIT: an acknowledgement.
        print(result.changes[0].after.id, flush=True)
    """
)


def prepared_db(tmp_path: Path) -> Path:
    src = tmp_path / "src" / "words.txt"
    src.parent.mkdir()
    src.write_text("abcde " * 2000, encoding="utf-8")
    db = tmp_path / "reviewer.db"
    with Store(db) as store:
        import_paths(store, [src.parent], reviewer="setup")
    return db


def writer(db: Path, reviewer: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), reviewer, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = prepared_db(tmp_path)
    proc = writer(db, "killed", 100_000)
    assert proc.stdout is not None
    acknowledged = [proc.stdout.readline().strip() for _ in range(300)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(db) as store:
        stored = {s.id for s in store.spans(reviewer="killed")}
        assert set(acknowledged) <= stored
        # Each stored span has its log entry: span and event were one transaction.
        logged = {e["span_id"] for e in store.events(reviewer="killed")}
        assert stored == logged
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = prepared_db(tmp_path)
    procs = [writer(db, name, 1000) for name in ("alice", "bob")]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert err == ""
        assert len(out.split()) == 1000
    with Store(db) as store:
        assert len(store.spans()) == 2000
        assert store.stats()["reviewers"] == {"alice": 1000, "bob": 1000}
