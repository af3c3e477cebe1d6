"""JSON-lines files (plain or .gz): tolerant reading of crash-truncated tails, appending."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Iterator, Tuple

from .errors import HarnessError


GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"


def is_gzip(path) -> bool:
    """Gzip by content (its magic bytes), whatever the file is named."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def read_text(path) -> str:
    """A text file, plain or gzip (detected by content), as UTF-8 without a leading byte-order mark."""
    path = Path(path)
    if not path.exists():
        raise HarnessError(f"{path}: no such file")
    try:
        if is_gzip(path):
            with gzip.open(path, "rt", encoding="utf-8-sig") as f:
                return f.read()
        with open(path, encoding="utf-8-sig") as f:
            return f.read()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read {path}: {exc}") from exc


def read_jsonl(path, strict: bool = True) -> Iterator[Tuple[int, dict]]:
    """(line number, record). ``strict=False`` skips a torn last line left by a crash. Gzip is
    detected by content; a byte-order mark at the start of the file or of a line is ignored."""
    text = read_text(path)
    lines = text.split("\n")  # only "\n" (universal newlines applied): JSON text may hold a raw U+2028
    if lines and not lines[-1]:
        lines.pop()
    for i, line in enumerate(lines, 1):
        line = line.lstrip(BOM)
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            if not strict and i == len(lines):
                return  # torn final line: the record was never completely written
            raise HarnessError(f"{path}:{i}: not a JSON object ({exc.msg} column {exc.colno})") from exc
        if not isinstance(rec, dict):
            raise HarnessError(f"{path}:{i}: expected a JSON object, got {type(rec).__name__}")
        yield i, rec


class JsonlAppender:
    """Appends records and flushes each one, so a crash loses at most the record being written."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._f = open(self.path, "a", encoding="utf-8")

    def _repair_tail(self):
        """Drop a torn last line (no newline) so that appends start on a fresh line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return
            f.seek(0)
            data = f.read()
            f.seek(data.rfind(b"\n") + 1)
            f.truncate()

    def write(self, record: dict) -> None:
        self._f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_jsonl_atomic(path, records) -> None:
    """Replace ``path`` with ``records`` all at once (a crash leaves the old file or the new one)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
