"""A results cache across runs: the verdict of an assembled program on a given sandbox image.

Key: sha256 of (assembled program, language, sandbox image id, limits, execution mode). The
program text contains the test code, so the dataset variant is part of the key. Harness errors
are never stored. Value: the first outcome stored, with every status any run gave the program and
how often (``hx_observed``): a hit on a program seen with two statuses is delivered as a flip. SQLite in the user cache (``~/.cache/humaneval-x/results.sqlite``).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional

from .flips import merge_observed
from .paths import user_cache_dir
from .protocol import ISOLATION


# The isolation scheme of the sandboxes (protocol.ISOLATION, its history in runners/hxrunner/protocol.py):
# verdicts from an older scheme, which a neighbouring program could spoil, are never reused.
COMMIT_EVERY = 256      # verdicts per SQLite commit
COMMIT_SECONDS = 1.0    # or at most this long between commits


def cache_key(program_hash: str, image_id: str, request: dict) -> str:
    limits = {k: request.get(k) for k in ("compile", "run", "compile_timeout", "run_cpu", "run_timeout", "python",
                                          "compile_server", "failure_markers", "crash_markers", "output_cap")}
    blob = json.dumps([ISOLATION, program_hash, image_id, limits], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResultCache:
    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else user_cache_dir() / "results.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, outcome TEXT NOT NULL)")
        self._db.commit()
        self.hits = 0
        self._pending = 0
        self._last_commit = time.monotonic()

    def get(self, key: str) -> Optional[dict]:
        with self._lock:
            row = self._db.execute("SELECT outcome FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, outcome: dict) -> None:
        """Store a verdict; commits go in groups (a crash loses at most the last second of a cache,
        never anything of a run: the cache is only an optimisation). A program run again adds its status
        to those already stored (flips.merge_observed): the cache never keeps one verdict of a program
        that flips and forgets the others, so a flip seen once is reported by every run that reuses it."""
        if outcome.get("status") in (None, "harness_error"):
            return
        with self._lock:
            row = self._db.execute("SELECT outcome FROM results WHERE key = ?", (key,)).fetchone()
            merged = merge_observed(json.loads(row[0]) if row else None, outcome)
            self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, json.dumps(merged)))
            self._pending += 1
            if self._pending >= COMMIT_EVERY or time.monotonic() - self._last_commit > COMMIT_SECONDS:
                self._commit()

    def _commit(self):
        self._db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._commit()

    def close(self):
        self.flush()
        self._db.close()
