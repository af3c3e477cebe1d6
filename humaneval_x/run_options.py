"""Options that the command line checks and the stages use: read by both, defined here once."""
from __future__ import annotations

from typing import Optional

RESUME_MODES = ("auto", "strict")  # reuse what still matches / refuse when anything stored no longer does


def progress_disabled(show_progress) -> Optional[bool]:
    """tqdm's ``disable``: None (the default) shows bars on a terminal only."""
    return None if show_progress is None else not show_progress
