"""The Textual interface. It talks to ``reviewer.core`` only, never to SQL.

Textual and the widgets the app shows first are loaded here, with the garbage collector
paused: loading them makes tens of thousands of lasting objects and almost no garbage, and
the collections so many allocations set off found none (15-20 ms of a 250 ms start). What
they made is frozen, out of later collections' walks."""

import gc

from reviewer.core.rows import no_cyclic_gc

with no_cyclic_gc():
    import textual.app  # noqa: F401
    from textual.widgets import Footer, Input, Static, TextArea  # noqa: F401

    gc.freeze()
