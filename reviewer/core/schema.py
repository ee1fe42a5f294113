"""The label schema: four default labels, extendable by ``labels.toml`` in the workspace.

A team adds labels (dose, route...) or recolours the defaults with a file next to the database::

    [labels.dose]
    key = "5"
    color = "#d08770"
    description = "Amount and frequency of a drug"

A default label can be overridden by name; labels cannot be removed, so spans already made stay
valid.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from reviewer.core.model import Label, LabelSchema, ReviewerError

SCHEMA_FILE = "labels.toml"

DEFAULT_LABELS: tuple[Label, ...] = (
    Label("drug", "1", "#5fafff", "A medicinal product, active substance or drug class"),
    Label("event", "2", "#ff875f", "An adverse event, sign or symptom"),
    Label("test", "3", "#87d787", "A laboratory test, measurement, imaging or procedure"),
    Label("diagnosis", "4", "#d7afff", "A disease, disorder or established diagnosis"),
)

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def default_schema() -> LabelSchema:
    """The four labels every workspace starts with."""
    return LabelSchema(DEFAULT_LABELS)


def load_schema(workspace: Path) -> LabelSchema:
    """The defaults extended by ``workspace/labels.toml`` when that file exists."""
    path = workspace / SCHEMA_FILE
    if not path.exists() and not path.is_symlink():
        return default_schema()
    if not path.is_file():
        raise ReviewerError(f"{path}: is not a readable file (a folder or a broken link?)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReviewerError(f"{path}: not a valid TOML label schema: {exc}") from None
    unknown = set(data) - {"labels"}
    if unknown:
        raise ReviewerError(
            f"{path}: unknown section(s) {sorted(unknown)}; labels go under [labels.NAME]"
        )
    table = data.get("labels", {})
    if not isinstance(table, dict):
        raise ReviewerError(f"{path}: [labels] must be a table of labels")
    labels = {label.name: label for label in DEFAULT_LABELS}
    for name, spec in table.items():
        labels[name] = _parse_label(path, name, spec, labels.get(name))
    return _checked(path, tuple(labels.values()))


def _parse_label(path: Path, name: str, spec: object, base: Label | None) -> Label:
    if not _NAME.match(name):
        raise ReviewerError(
            f"{path}: label name {name!r} must be lower case letters, digits, '-' or '_'"
        )
    if not isinstance(spec, dict):
        raise ReviewerError(f"{path}: [labels.{name}] must be a table")
    unknown = set(spec) - {"key", "color", "description"}
    if unknown:
        raise ReviewerError(f"{path}: [labels.{name}] has unknown fields {sorted(unknown)}")
    key = spec.get("key", base.key if base else None)
    color = spec.get("color", base.color if base else None)
    description = spec.get("description", base.description if base else "")
    if not isinstance(description, str):
        raise ReviewerError(f"{path}: [labels.{name}] description must be a string")
    if not isinstance(key, str) or len(key) != 1 or not key.isprintable() or key.isspace():
        raise ReviewerError(f"{path}: [labels.{name}] needs a one-character key")
    if not isinstance(color, str) or not _COLOR.match(color):
        raise ReviewerError(f'{path}: [labels.{name}] needs a colour like "#5fafff"')
    return Label(name, key, color, description)


def _checked(path: Path, labels: tuple[Label, ...]) -> LabelSchema:
    seen: dict[str, str] = {}
    for label in labels:
        if label.key in seen:
            raise ReviewerError(
                f"{path}: labels {seen[label.key]!r} and {label.name!r} share the key {label.key!r}"
            )
        seen[label.key] = label.name
    return LabelSchema(labels)


# Colours for labels that imports bring in; chosen to read on a dark background.
IMPORTED_COLORS = (
    "#d7af5f",
    "#5fd7d7",
    "#d787af",
    "#afd75f",
    "#87afd7",
    "#d7875f",
    "#af87d7",
    "#5fd787",
    "#d7d75f",
    "#5fafaf",
    "#d75f87",
    "#87d7af",
)


def with_imported(schema: LabelSchema, names: list[str]) -> LabelSchema:
    """``schema`` plus labels an import brought in (no key: they are applied from lists)."""
    extra = [n for n in names if n not in schema]
    if not extra:
        return schema
    start = len(schema.labels)
    imported = tuple(
        Label(name, "", IMPORTED_COLORS[(start + i) % len(IMPORTED_COLORS)], "imported")
        for i, name in enumerate(extra)
    )
    return LabelSchema(schema.labels + imported)


def parse_maps(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["Medication=drug", ...]`` as a dict; an item without ``=`` is an error."""
    out: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ReviewerError(f"--map {pair!r}: write SOURCE=LABEL, e.g. Medication=drug")
        out[source.strip()] = target.strip()
    return out


def load_label_map(path: Path) -> dict[str, str]:
    """A label map file: TOML with a ``[map]`` table of ``Source = "label"``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReviewerError(f"{path}: not a valid TOML label map: {exc}") from None
    table = data.get("map")
    if not isinstance(table, dict) or set(data) - {"map"}:
        raise ReviewerError(f'{path}: a label map is one [map] table of Source = "label"')
    if not all(isinstance(v, str) and v for v in table.values()):
        raise ReviewerError(f"{path}: every [map] value must be a label name in quotes")
    return dict(table)
