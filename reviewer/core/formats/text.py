"""Plain-text reports: one ``.txt`` file is one report, its id the path without extension."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from reviewer.core.formats.base import ReportRecord
from reviewer.core.text import path_text, read_text_file


def read(path: Path, report_id: str, *, encoding: str = "utf-8") -> Iterator[ReportRecord]:
    """The file as one report; its header is read later, from the normalised text."""
    yield ReportRecord(
        id=report_id, raw_text=read_text_file(path, encoding=encoding), source=path_text(path)
    )
