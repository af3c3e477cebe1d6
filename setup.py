"""Build hook: the sandbox recipes, the runner and the data files travel inside the wheel.

The top-level folders ``sandboxes/``, ``runners/`` and ``data/`` stay the source of truth in the
repository; a wheel (or a regular install) gets a copy of them as ``humaneval_x/_assets/``, which
``humaneval_x/paths.py`` prefers when present. An editable install copies nothing and keeps using
the repository folders. Not shipped: the dataset (``*.jsonl.gz``, downloaded and verified on first
use) and the pinned artifacts of a build context (``sandboxes/js/artifacts.json``, e.g. the js-md5
tarball, fetched with ``npm pack`` and checked by sha256 when an image is built). The files a
sandbox's image tag hashes (``humaneval_x/sandbox/images.py``) are shipped byte for byte, so both
layouts compute the same tags and find the same images.
"""
import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
ASSETS_PACKAGE_DIR = ("humaneval_x", "_assets")
NEVER = {"__pycache__", ".pytest_cache"}


def _artifact_names(folder: Path) -> set:
    spec = folder / "artifacts.json"
    return {a["file"] for a in json.loads(spec.read_text())} if spec.exists() else set()


def asset_files(root: Path = ROOT) -> dict:
    """Path inside ``_assets`` -> source file, for every file that ships."""
    out = {}
    for lang_dir in sorted(p for p in (root / "sandboxes").iterdir() if p.is_dir()):
        skip = _artifact_names(lang_dir)  # the same rule as images.context_files
        for p in sorted(lang_dir.rglob("*")):
            if p.is_file() and p.name not in skip and not NEVER & set(p.relative_to(lang_dir).parts):
                out[p.relative_to(root).as_posix()] = p
    for p in sorted((root / "runners").rglob("*")):
        if p.is_file() and not NEVER & set(p.relative_to(root).parts) and p.suffix != ".pyc":
            out[p.relative_to(root).as_posix()] = p
    for p in sorted((root / "data").glob("*.json")):
        out[p.relative_to(root).as_posix()] = p
    return out


class build_py_with_assets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # the editable install reads the repository folders themselves
            return
        target = Path(self.build_lib, *ASSETS_PACKAGE_DIR)
        if target.exists():
            shutil.rmtree(target)  # a stale build/ from an earlier build must not leak files
        for rel, src in asset_files().items():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


setup(cmdclass={"build_py": build_py_with_assets})
