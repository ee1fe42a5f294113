"""The pure-Python core of reviewer: model, text, store, formats, import and export.

Nothing under ``reviewer.core`` imports textual or rich (``tests/core/test_import_hygiene.py``
checks), so the CLI, scripts and benchmarks use it without a terminal UI.
"""
