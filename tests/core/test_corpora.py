"""Real case reports nobody here wrote: ../shared/corpora (present in CI, absent in a user's
clone, where these tests skip and say why)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.store import Store
from reviewer.core.text import is_normalised

SHARED = Path(__file__).resolve().parents[3] / "shared"
MACCROBAT = SHARED / "corpora" / "maccrobat2020" / "MACCROBAT2020"

needs_maccrobat = pytest.mark.skipif(
    not MACCROBAT.is_dir(), reason=f"{MACCROBAT} is absent (shared corpora are not in a clone)"
)


@needs_maccrobat
def test_maccrobat_texts_import_unchanged(tmp_path: Path) -> None:
    files = sorted(MACCROBAT.glob("*.txt"))
    assert len(files) == 200
    with Store(tmp_path / "reviewer.db") as store:
        summary = import_paths(store, [*files], fmt="text", reviewer="ci")
        assert summary.reports == 200 and summary.errors == []
        for file in files:
            original = file.read_bytes().decode("utf-8")
            assert is_normalised(original), f"{file.name} needs normalising: test is moot"
            report = store.report(file.stem)
            assert report.text == original, file.name
        # And the FTS index covers them.
        assert store.fts_report_ids("troponin")
