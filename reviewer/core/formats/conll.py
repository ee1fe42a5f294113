"""CoNLL BIO out: one ``token TAG`` per line, a blank line after each sentence, and
``-DOCSTART- -X- O O`` before each report (CoNLL 2003).

Tokens come from ``core.tokens`` split at every span edge, so no span boundary falls inside a
token. BIO holds one layer: where spans overlap, the longer (then the earlier) is written and the
others are reported through ``dropped``, never silently left out. A discontinuous span is
written fragment by fragment (each fragment begins with B-).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reviewer.core.formats.base import pieces as span_pieces
from reviewer.core.model import Report
from reviewer.core.tokens import tokenize

DOCSTART = "-DOCSTART- -X- O O"
_SENTENCE_END = {".", "!", "?"}


def bio_lines(
    items: Iterable[tuple[Report, list[dict]]], dropped: list[str] | None = None
) -> Iterator[str]:
    """The CoNLL file, line by line; overlapping spans left out are described in ``dropped``."""
    for report, spans in items:
        pieces = _one_layer(report, spans, dropped)
        tokens = tokenize(report.text, [x for s, e, _ in pieces for x in (s, e)])
        tags = ["O"] * len(tokens)
        for start, end, label in pieces:
            inside = [t.id for t in tokens if t.start >= start and t.end <= end]
            for n, index in enumerate(inside):
                # A space in a label would make a fourth column: CoNLL tags have none.
                tags[index] = f"{'B' if n == 0 else 'I'}-{'_'.join(label.split())}"
        yield DOCSTART + "\n\n"
        sentence: list[str] = []
        for token, tag in zip(tokens, tags, strict=True):
            gap = report.text[tokens[token.id - 1].end : token.start] if token.id else ""
            if sentence and "\n" in gap and tag[:1] != "I":
                yield "".join(sentence) + "\n"
                sentence = []
            sentence.append(f"{token.text} {tag}\n")
            if token.text in _SENTENCE_END and tag == "O":
                yield "".join(sentence) + "\n"
                sentence = []
        if sentence:
            yield "".join(sentence) + "\n"


def _one_layer(
    report: Report, spans: list[dict], dropped: list[str] | None
) -> list[tuple[int, int, str]]:
    pieces = [(s, e, span["label"]) for span in spans for s, e in span_pieces(span)]
    kept: list[tuple[int, int, str]] = []
    for start, end, label in sorted(pieces, key=lambda p: (-(p[1] - p[0]), p[0], p[2])):
        if any(start < e and s < end for s, e, _ in kept):
            if dropped is not None:
                dropped.append(
                    f"{report.id} {start}-{end} {label} {report.text[start:end]!r} overlaps "
                    "a span already written"
                )
            continue
        kept.append((start, end, label))
    return sorted(kept)
