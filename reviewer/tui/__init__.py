"""The Textual interface. It talks to ``reviewer.core`` only, never to SQL.

Textual and the widgets the app shows first are loaded here, with the garbage collector
paused: loading them makes tens of thousands of lasting objects and almost no garbage, and
the collections so many allocations set off found none (15-20 ms of a 250 ms start). What
they made is frozen, out of later collections' walks; the collector is then as it was."""

import gc

_collecting = gc.isenabled()
gc.disable()
try:
    import textual.app  # noqa: F401
    from textual.widgets import Footer, Input, Static, TextArea  # noqa: F401
finally:
    gc.freeze()
    if _collecting:
        gc.enable()
del _collecting
