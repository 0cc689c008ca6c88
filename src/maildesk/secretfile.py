"""Files holding secrets (client secrets, refresh tokens, service-account keys) must be
readable by their owner only: one check, one wording, whichever error the caller raises."""

from __future__ import annotations

from pathlib import Path


def readable_by_others(path: Path) -> str | None:
    """Why ``path`` is not private ("… is readable by others (mode 644): chmod 600 …"), or
    None when only its owner can read it. ``OSError`` (a missing file…) is the caller's."""
    mode = path.stat().st_mode
    if mode & 0o077:
        return f"{path} is readable by others (mode {mode & 0o777:o}): run chmod 600 {path}"
    return None
