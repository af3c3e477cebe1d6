"""Where the project's non-Python parts live (source checkout / editable install)."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
SANDBOXES_DIR = PROJECT_ROOT / "sandboxes"
RUNNERS_DIR = PROJECT_ROOT / "runners"
REPORTS_DIR = PROJECT_ROOT / "reports"


def user_cache_dir() -> Path:
    base = os.environ.get("HUMANEVAL_X_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "humaneval-x")
    return Path(base)
