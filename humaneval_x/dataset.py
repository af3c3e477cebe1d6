"""HumanEval-X dataset: locate, download + verify, load, validate, apply errata.

Source order: explicit ``data_dir`` argument, then ``$HUMANEVAL_X_DATA``, then the
user cache (filled by downloading the pinned upstream files and checking sha256).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from .errors import DatasetError
from .languages import PAPER_LANGUAGES, Language, get_language
from .paths import DATA_DIR, user_cache_dir

PROBLEMS_PER_LANGUAGE = 164
COMMON_KEYS = ("task_id", "prompt", "declaration", "canonical_solution", "test", "example_test")
# A variant is the upstream files plus these layers of exact-text patches, applied in order (data/*.json).
# errata-v2 = errata-v1 + tests that draw random inputs seeded (data/seeded-tests.json): the same
# inputs on every run and machine; original = the paper's data, unseeded tests included.
VARIANT_LAYERS = {"errata-v2": ("errata.json", "seeded-tests.json"), "errata-v1": ("errata.json",), "original": ()}
VARIANTS = tuple(VARIANT_LAYERS)
DEFAULT_VARIANT = "errata-v2"
# How a variant builds test programs beyond its data (Problem.protocol; humaneval_x/assembly.py):
# cpp-assertions: C++ programs compile with _GLIBCXX_ASSERTIONS (out-of-bounds operator[] of a vector
# aborts, a runtime_error on every run, instead of reading whatever lies past the buffer).
VARIANT_PROTOCOL = {"errata-v2": ("cpp-assertions",), "errata-v1": (), "original": ()}
DATA_ENV = "HUMANEVAL_X_DATA"


@dataclass(frozen=True)
class Problem:
    task_id: str
    language: str  # key into LANGUAGES
    prompt: str
    declaration: str
    canonical_solution: str
    test: str
    example_test: str
    extra: Dict[str, str] = field(default_factory=dict)  # Go: import, docstring, test_setup; Java: text; Rust: docstring

    protocol: Tuple[str, ...] = ()  # the variant's settings for building the test program (VARIANT_PROTOCOL)

    @property
    def number(self) -> int:
        return int(self.task_id.split("/")[1])


def load_manifest() -> dict:
    with open(DATA_DIR / "manifest.json", encoding="utf-8") as f:
        return json.load(f)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_data_dir(data_dir: Optional[str] = None, download: bool = True) -> Path:
    """Directory holding the five humaneval_<lang>.jsonl.gz files."""
    if data_dir:
        path = Path(data_dir)
        if not path.is_dir():
            raise DatasetError(f"--data-dir {data_dir!r} is not a directory")
        return path
    if os.environ.get(DATA_ENV):
        path = Path(os.environ[DATA_ENV])
        if not path.is_dir():
            raise DatasetError(f"${DATA_ENV}={path} is not a directory")
        return path
    manifest = load_manifest()
    cache = user_cache_dir() / "data" / manifest["upstream_commit"]
    missing = [e for e in manifest["files"].values() if not (cache / e["file"]).exists()]
    if missing and download:
        download_dataset(cache, manifest)
    return cache


def download_dataset(target: Path, manifest: Optional[dict] = None) -> None:
    """Download the pinned upstream files into ``target`` and verify their sha256."""
    manifest = manifest or load_manifest()
    target.mkdir(parents=True, exist_ok=True)
    for lang, entry in manifest["files"].items():
        dest = target / entry["file"]
        if dest.exists() and sha256_file(dest) == entry["sha256"]:
            continue
        url = manifest["url_pattern"].format(commit=manifest["upstream_commit"], lang=lang)
        fd, tmp = tempfile.mkstemp(dir=target, suffix=".part")
        os.close(fd)
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            os.unlink(tmp)
            raise DatasetError(f"cannot download {url}: {exc}. Pass --data-dir or set ${DATA_ENV} "
                               "to a folder with the HumanEval-X files.") from exc
        digest = sha256_file(Path(tmp))
        if digest != entry["sha256"]:
            os.unlink(tmp)
            raise DatasetError(f"{url}: sha256 {digest} does not match the pinned {entry['sha256']}")
        os.replace(tmp, dest)


def verify_data_dir(path: Path) -> Dict[str, str]:
    """{language: 'ok' | 'modified' | 'missing'} against the pinned checksums."""
    out = {}
    for lang, entry in load_manifest()["files"].items():
        f = path / entry["file"]
        out[lang] = "missing" if not f.exists() else ("ok" if sha256_file(f) == entry["sha256"] else "modified")
    return out


def _read_records(path: Path) -> List[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DatasetError(f"{path}:{lineno}: not JSON ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return records


def validate_records(lang: Language, records: List[dict], source: str) -> None:
    required = COMMON_KEYS + lang.extra_keys
    if len(records) != PROBLEMS_PER_LANGUAGE:
        raise DatasetError(f"{source}: {len(records)} records, expected {PROBLEMS_PER_LANGUAGE}")
    for i, rec in enumerate(records):
        missing = [k for k in required if not isinstance(rec.get(k), str)]
        if missing:
            raise DatasetError(f"{source}: record {i} lacks string field(s) {missing}")
        if rec["task_id"] != f"{lang.task_prefix}/{i}":
            raise DatasetError(f"{source}: record {i} has task_id {rec['task_id']!r}, "
                               f"expected {lang.task_prefix}/{i}")


def variant_settings(variant: Optional[str]) -> dict:
    """What a variant does for determinism, as summary.json records it (``determinism``)."""
    return {"seeded_tests": "seeded-tests.json" in VARIANT_LAYERS.get(variant, ()),
            "cpp_glibcxx_assertions": "cpp-assertions" in VARIANT_PROTOCOL.get(variant, ())}


def variant_bridge(a: str, b: str) -> Optional[str]:
    """Why runs under variants ``a`` and ``b`` may be compared (a warning for the gate), or None. errata-v1 and
    errata-v2 share every problem and every canonical solution: a program's verdict can differ between them only
    on the seeded tests (problems 32, 38, 50 and 53) and on C++ programs that index a vector out of bounds."""
    if {a, b} == {"errata-v1", "errata-v2"}:
        return (f"dataset variants differ (baseline {a}, candidate {b}); errata-v2 is errata-v1 with seeded random "
                "test inputs (problems 32, 38, 50, 53) and C++ bounds-checked operator[] (_GLIBCXX_ASSERTIONS): "
                "a program's verdict can differ only there, so the runs are gated with this warning")
    return None


def load_errata(layer: str = "errata.json") -> dict:
    with open(DATA_DIR / layer, encoding="utf-8") as f:
        return json.load(f)


def apply_errata(records: Dict[str, dict], errata: dict) -> List[str]:
    """Patch ``records`` (task_id -> record) in place; returns the patched task ids."""
    patched = []
    for p in errata["patches"]:
        rec = records.get(p["task_id"])
        if rec is None:
            continue  # language not loaded
        text, count = rec[p["field"]], p.get("count", 1)
        if text.count(p["find"]) != count:
            raise DatasetError(f"errata {errata['variant']}: the text to fix in {p['task_id']}.{p['field']} "
                               f"is not found exactly {'once' if count == 1 else f'{count} times'}; the data "
                               "differs from the pinned upstream files")
        rec[p["field"]] = text.replace(p["find"], p["replace"])
        patched.append(p["task_id"])
    return patched


def load_problems(languages: Optional[Iterable[str]] = None, data_dir: Optional[str] = None,
                  variant: str = DEFAULT_VARIANT) -> Dict[str, Problem]:
    """task_id -> Problem for the requested languages (default: the paper's five)."""
    if variant not in VARIANTS:
        raise DatasetError(f"unknown dataset variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    langs = [get_language(l) for l in (languages or PAPER_LANGUAGES)]
    root = resolve_data_dir(data_dir)
    raw: Dict[str, dict] = {}
    for lang in langs:
        path = root / lang.data_file
        if not path.exists():
            raise DatasetError(f"{path} not found (data folder {root})")
        records = _read_records(path)
        validate_records(lang, records, str(path))
        for rec in records:
            raw[rec["task_id"]] = dict(rec, _language=lang.name)
    for layer in VARIANT_LAYERS[variant]:
        apply_errata(raw, load_errata(layer))
    problems = {}
    for tid, rec in raw.items():
        lang = get_language(rec["_language"])
        fields = {k: rec[k] for k in COMMON_KEYS if k != "task_id"}
        extra = {k: rec[k] for k in lang.extra_keys}
        if lang.prompt_of:  # Rust: the record's prompt is only the doc comment (kept as `docstring`)
            extra["docstring"] = rec["prompt"]
            fields["prompt"] = lang.prompt_of(rec)
        problems[tid] = Problem(task_id=tid, language=lang.name, **fields, extra=extra)
    if VARIANT_PROTOCOL[variant]:
        problems = {t: replace(p, protocol=VARIANT_PROTOCOL[variant]) for t, p in problems.items()}
    return problems
