"""reviewer: keyboard-driven annotation of clinical and pharmacovigilance case reports."""

__version__ = "0.1.0"
