"""Sorting a mail: category, kind, priority and deadline — the rules here, the learned
classifier in ``learned/``."""
