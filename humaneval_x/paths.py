"""Where the project's non-Python parts live, in both layouts.

- Source checkout / editable install: the repository's top-level ``data/``, ``sandboxes/`` and
  ``runners/`` (the source of truth).
- Installed wheel: the copies that setup.py's build hook puts in ``humaneval_x/_assets/``.

The copies are byte-identical to the repository files, so the content-hashed image tags
(``sandbox/images.py``) are the same in both layouts: a wheel-installed CLI finds the images built
from a checkout, and the other way round.
"""
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent          # the repository in a checkout; site-packages when installed
_SHIPPED = PACKAGE_DIR / "_assets"
_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "sandboxes").is_dir()
INSTALLED_ASSETS = not _CHECKOUT and (_SHIPPED / "sandboxes").is_dir()  # a checkout never reads a stale copy
ASSETS_ROOT = _SHIPPED if INSTALLED_ASSETS else PROJECT_ROOT

DATA_DIR = ASSETS_ROOT / "data"
SANDBOXES_DIR = ASSETS_ROOT / "sandboxes"
RUNNERS_DIR = ASSETS_ROOT / "runners"
REPORTS_DIR = PROJECT_ROOT / "reports"     # stored example reports: in a checkout only, never shipped


def user_cache_dir() -> Path:
    base = os.environ.get("HUMANEVAL_X_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "humaneval-x")
    return Path(base)
