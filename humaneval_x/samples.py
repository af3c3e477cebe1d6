"""Sample files in the CodeGeeX format: {"task_id", "generation"} per line (or "completion").

Optional fields: "sample_index" (else numbered per task in file order), and for
translation samples "source_language" (the task_id names the TARGET problem).
evalplus's "solution" field (a whole program, prompt included) is accepted too: such a
sample is assembled as the whole program (see assembly.prepare_sample).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from .errors import HarnessError
from .jsonl import read_jsonl
from .languages import get_language, language_of_task

CODE_KEYS = ("generation", "completion", "solution")
WHOLE_KEYS = ("solution",)  # fields that hold a whole program rather than a continuation


@dataclass(frozen=True)
class Sample:
    task_id: str
    sample_index: int
    generation: str
    source_language: Optional[str] = None  # set for translation samples
    whole: bool = False  # the text is a whole program (evalplus `solution`), not a continuation

    @property
    def key(self) -> tuple:
        return sample_key(self.task_id, self.sample_index, self.source_language)


def sample_key(task_id: str, sample_index: int, source_language: Optional[str] = None) -> tuple:
    return (task_id, source_language or "", int(sample_index))


def parse_sample(rec: dict, where: str, counters: Dict[tuple, int]) -> Sample:
    task_id = rec.get("task_id")
    if not isinstance(task_id, str):
        raise HarnessError(f"{where}: missing string field task_id")
    try:
        language_of_task(task_id)
    except ValueError as exc:
        raise HarnessError(f"{where}: {exc}") from None
    key = next((k for k in CODE_KEYS if k in rec), None)
    code = rec.get(key) if key else None
    if not isinstance(code, str):
        raise HarnessError(f"{where}: needs a string field 'generation' (or 'completion', or evalplus's 'solution')")
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON allows lone surrogates ("\ud800"); no program text holds one
        raise HarnessError(f"{where}: field '{key}' is not valid Unicode text (a lone surrogate "
                           f"{code[exc.start]!r} at character {exc.start})") from None
    source = rec.get("source_language")
    if source is not None:
        try:
            source = get_language(str(source)).name
        except ValueError as exc:
            raise HarnessError(f"{where}: {exc}") from None
    idx = rec.get("sample_index")
    ck = (task_id, source or "")
    if idx is None:
        idx = counters.get(ck, 0)
    elif not isinstance(idx, int) or idx < 0:
        raise HarnessError(f"{where}: sample_index must be a non-negative integer")
    counters[ck] = max(counters.get(ck, 0), idx + 1)
    return Sample(task_id, idx, code, source, whole=key in WHOLE_KEYS)


def load_samples(path) -> List[Sample]:
    counters: Dict[tuple, int] = {}
    samples, seen = [], set()
    for lineno, rec in read_jsonl(path):
        s = parse_sample(rec, f"{path}:{lineno}", counters)
        if s.key in seen:
            raise HarnessError(f"{path}:{lineno}: duplicate sample {s.task_id} #{s.sample_index}")
        seen.add(s.key)
        samples.append(s)
    if not samples:
        raise HarnessError(f"{path}: no samples")
    return samples
