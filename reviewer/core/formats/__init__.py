"""One module per exchange format. Readers yield ``ReportRecord``s in the file's own offsets;
``core.importer`` normalises, validates and stores them. Writers take reports with their spans."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FormatInfo:
    """What a format is and what it carries through reviewer (for ``reviewer formats``)."""

    name: str
    read: bool
    write: bool
    spans: bool
    attributes: bool
    notes: bool
    relations: bool
    discontinuous: bool
    description: str


FORMATS: tuple[FormatInfo, ...] = (
    FormatInfo(
        "text",
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        ".txt files, one report each; a case-report header becomes metadata",
    ),
    FormatInfo(
        "jsonl",
        True,
        True,
        True,
        True,
        True,
        False,
        True,
        "reviewer's JSONL: one report per line with spans (spaCy/Prodigy start/end/label)",
    ),
    FormatInfo(
        "spans",
        False,
        True,
        True,
        True,
        True,
        False,
        True,
        "one span per line with report id and context (export only)",
    ),
    FormatInfo(
        "brat",
        True,
        True,
        True,
        True,
        True,
        True,
        True,
        "brat standoff .txt/.ann pairs; lines the model does not hold are kept verbatim",
    ),
    FormatInfo(
        "prodigy",
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        "Prodigy ner_manual tasks: tokens, spans with token_start/token_end, answers",
    ),
    FormatInfo(
        "doccano",
        True,
        True,
        True,
        False,
        False,
        True,
        False,
        "doccano JSONL: label or entities/relations form; --offsets utf16 for browsers",
    ),
    FormatInfo(
        "pubtator",
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        "PubTator (BioCreative): title + space + abstract; CID relation lines kept",
    ),
    FormatInfo(
        "conll",
        False,
        True,
        True,
        False,
        False,
        False,
        False,
        "CoNLL 2003 BIO, one layer: overlapping spans are reported, not dropped silently",
    ),
)
