"""reviewer.core never imports textual or rich: the CLI, scripts and benchmarks stay light and
the core stays testable without a terminal. Checked in a fresh interpreter through sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys


def core_modules() -> list[str]:
    """Every module under reviewer.core, found by walking the package: a new one is checked
    without anyone remembering to list it."""
    import pkgutil

    import reviewer.core

    return sorted(m.name for m in pkgutil.walk_packages(reviewer.core.__path__, "reviewer.core."))


CORE_MODULES = core_modules()


def loaded_after_importing(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_core_never_imports_textual_or_rich() -> None:
    loaded = loaded_after_importing(CORE_MODULES)
    ui = sorted(m for m in loaded if m.split(".")[0] in {"textual", "rich"})
    assert ui == [], f"reviewer.core pulled in {ui}"


def test_every_core_module_is_checked() -> None:
    assert {"reviewer.core.store", "reviewer.core.formats.brat"} <= set(CORE_MODULES)


def test_the_cli_imports_no_textual_until_the_app_opens() -> None:
    loaded = loaded_after_importing(["reviewer.cli"])
    assert "textual" not in loaded


def test_the_check_would_catch_a_leak() -> None:
    assert "textual" in loaded_after_importing(["reviewer.tui.app"])
