"""Copying text: the system clipboard through pyperclip where there is one, and always the
terminal's clipboard through OSC 52 (which reaches the user's machine over SSH)."""

from __future__ import annotations

from textual.app import App


def copy(app: App, text: str) -> str:
    """Copy ``text``; returns where it went, for the notification. Never raises."""
    app.copy_to_clipboard(text)  # OSC 52; also sets app.clipboard
    try:
        import pyperclip

        pyperclip.copy(text)
    except Exception:  # no clipboard program, no display (SSH, headless): OSC 52 only
        return "the terminal clipboard (OSC 52; no system clipboard here)"
    return "the system clipboard (and the terminal's, OSC 52)"
