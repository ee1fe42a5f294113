"""The Textual interface. It talks to ``reviewer.core`` only, never to SQL."""
