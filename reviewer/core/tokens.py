"""The project's tokenizer, for formats that need tokens (Prodigy, CoNLL).

Tokens are runs of letters and digits, or single other characters; whitespace separates them.
Every span boundary given is also a token boundary, so a span always covers whole tokens and
token indices never drift from character offsets (Prodigy's token_start/token_end, BIO tags).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text, code-point offsets (end exclusive), index and trailing space."""

    text: str
    start: int
    end: int
    id: int
    ws: bool


def tokenize(text: str, boundaries: Iterable[int] = ()) -> list[Token]:
    """Tokens of ``text``, split wherever a ``boundaries`` offset falls inside one."""
    cuts = sorted(set(boundaries))
    pieces: list[tuple[int, int]] = []
    i = 0
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        while i < len(cuts) and cuts[i] <= start:
            i += 1
        j = i
        while j < len(cuts) and cuts[j] < end:
            pieces.append((start, cuts[j]))
            start = cuts[j]
            j += 1
        pieces.append((start, end))
    return [
        Token(text[s:e], s, e, n, e < len(text) and text[e].isspace())
        for n, (s, e) in enumerate(pieces)
    ]


def token_span(tokens: list[Token], start: int, end: int) -> tuple[int, int] | None:
    """The first and last (inclusive) indices of the tokens inside ``start``-``end`` (with
    the span's edges as boundaries these cover it exactly, up to edge whitespace), or None
    when the span holds no token."""
    first = next((t.id for t in tokens if t.start >= start), None)
    last = next((t.id for t in reversed(tokens) if t.end <= end), None)
    if first is None or last is None or last < first:
        return None
    return first, last
