"""Words and sentences of a report's text, for keyboard motions and for snapping selections.

A *word* is a run of non-space characters with the punctuation at its edges dropped, so
``dupilumab.`` is ``dupilumab``, ``(ANA)`` is ``ANA``, and ``anti-dsDNA``, ``1:80``, ``mg/kg``
and ``50%`` stay whole: clinical text is full of such tokens and a reviewer tags them whole.
A run made of punctuation only (``--``, ``(``) is no word. Offsets are code points into the
stored text, end exclusive, like every offset in reviewer.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property

# Dropped from either edge of a word. %, °, µ, +, # and the like are kept: "50%" and "+++" are
# what a reviewer tags.
EDGE_PUNCTUATION = frozenset(".,;:!?\"'`()[]{}<>«»“”‘’„‚*…·–—-_/\\|")

_RUN = re.compile(r"\S+")
# A sentence ends at . ! ? (and any closing quotes or brackets) followed by white space, or at
# a blank line; the next sentence starts at the next non-space character.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+|\n\s*\n\s*")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start] in EDGE_PUNCTUATION:
        if text[start] == "-" and start + 1 < end and text[start + 1].isdigit():
            break  # a minus sign: "-1.2" is a value
        start += 1
    while end > start and text[end - 1] in EDGE_PUNCTUATION:
        end -= 1
    return (start, end) if start < end else None


@dataclass(frozen=True)
class Words:
    """The words and sentence starts of one text, with the motions over them."""

    text: str

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """Every word as ``(start, end)``, in order."""
        out = []
        for m in _RUN.finditer(self.text):
            word = _trimmed(self.text, m.start(), m.end())
            if word is not None:
                out.append(word)
        return out

    @cached_property
    def starts(self) -> list[int]:
        return [s for s, _ in self.spans]

    @cached_property
    def ends(self) -> list[int]:
        return [e for _, e in self.spans]

    @cached_property
    def sentence_starts(self) -> list[int]:
        starts = [0] if self.text[:1].strip() else []
        if not starts:
            first = re.search(r"\S", self.text)
            starts = [first.start()] if first else []
        starts += [m.end() for m in _SENTENCE_END.finditer(self.text) if m.end() < len(self.text)]
        return sorted(set(starts))

    # --- finding ------------------------------------------------------------------------------

    def word_at(self, offset: int) -> tuple[int, int] | None:
        """The word that holds ``offset`` (a cursor on its first character up to its last);
        ``None`` on space or punctuation between words."""
        i = bisect_right(self.starts, offset) - 1
        if i >= 0 and self.spans[i][0] <= offset < self.spans[i][1]:
            return self.spans[i]
        return None

    def words_in(self, start: int, end: int) -> list[tuple[int, int]]:
        """The words that lie wholly or partly within ``[start, end)``."""
        lo = bisect_right(self.ends, start)
        hi = bisect_left(self.starts, end)
        return self.spans[lo:hi]

    # --- motions: each returns the new offset, or ``offset`` itself when there is no word (or
    # sentence) that way; a count past the last one stops at the last one.

    def next_start(self, offset: int, count: int = 1) -> int:
        """The start of the ``count``-th word after ``offset``."""
        return _forward(self.starts, offset, count)

    def previous_start(self, offset: int, count: int = 1) -> int:
        """The start of the ``count``-th word before ``offset``."""
        return _backward(self.starts, offset, count)

    def next_end(self, offset: int, count: int = 1) -> int:
        """The end of the ``count``-th word ending after ``offset`` (the current word's end
        counts when ``offset`` is inside it)."""
        return _forward(self.ends, offset, count)

    def previous_end(self, offset: int, count: int = 1) -> int:
        """The end of the ``count``-th word ending before ``offset``."""
        return _backward(self.ends, offset, count)

    def next_sentence(self, offset: int, count: int = 1) -> int:
        return _forward(self.sentence_starts, offset, count)

    def previous_sentence(self, offset: int, count: int = 1) -> int:
        return _backward(self.sentence_starts, offset, count)

    # --- selections ---------------------------------------------------------------------------

    def snap(self, start: int, end: int) -> tuple[int, int] | None:
        """A selection widened to the whole words it touches, without the white space and
        punctuation around them; ``None`` when it touches no word."""
        start, end = min(start, end), max(start, end)
        if start == end:
            word = self.word_at(start)
            return word
        inside = self.words_in(start, end)
        if not inside:
            return None
        return inside[0][0], inside[-1][1]

    def strip(self, start: int, end: int) -> tuple[int, int] | None:
        """A selection at character precision: exactly as made, but never with white space at
        its edges; ``None`` when nothing else is left."""
        start, end = min(start, end), max(start, end)
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return (start, end) if start < end else None

    def move_edge(self, start: int, end: int, edge: str, grow: bool) -> tuple[int, int] | None:
        """``(start, end)`` with one edge moved by a word: ``edge`` is ``"start"`` or
        ``"end"``; growing moves it outwards, shrinking inwards. ``None`` when the move is
        impossible (no word beyond, or the selection would vanish)."""
        if edge == "start":
            new = self.previous_start(start) if grow else self.next_start(start)
            if (grow and new >= start) or (not grow and (new <= start or new >= end)):
                return None
            return new, end
        new = self.next_end(end) if grow else self.previous_end(end)
        if (grow and new <= end) or (not grow and (new >= end or new <= start)):
            return None
        return start, new


def _forward(points: list[int], offset: int, count: int) -> int:
    i = bisect_right(points, offset)
    return points[min(i + count - 1, len(points) - 1)] if i < len(points) else offset


def _backward(points: list[int], offset: int, count: int) -> int:
    i = bisect_left(points, offset)
    return points[max(i - count, 0)] if i > 0 else offset


HINT_KEYS = "asdfghjklqwertyuiopzxcvbnm"


def hint_labels(count: int, keys: str = HINT_KEYS) -> list[str]:
    """Labels for ``count`` jump targets: one key each while they suffice, else two keys each
    (676 targets at most with 26 keys), so any target is at most two keys away."""
    if count <= len(keys):
        return list(keys[:count])
    pairs = [a + b for a in keys for b in keys]
    return pairs[:count]
