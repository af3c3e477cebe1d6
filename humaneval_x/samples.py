"""Sample files in the CodeGeeX format: {"task_id", "generation"} per line (or "completion").

Optional fields: "sample_index" (else numbered per task in file order), and for
translation samples "source_language" (the task_id names the TARGET problem).
evalplus's "solution" field (a whole program, prompt included) is accepted too: such a
sample is assembled as the whole program (see assembly.prepare_sample). A sample with both
"generation" and "completion" that differ is refused (which one is meant cannot be told); a
translation sample's "source_language" must differ from its target. A byte-order mark at the start
of the file, a line or a generation is dropped; gzip is detected by content (jsonl.read_text).

bigcode-evaluation-harness files (``generations.json``: a JSON list with one list of whole
programs per problem, in dataset order) are read too, with their language given (``language``) or
named by the file (``generations_humanevalsynthesize-cpp.json``); each program is a whole program.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from .errors import HarnessError
from .jsonl import BOM, read_jsonl, read_text
from .languages import LANGUAGES, get_language, language_of_task

CODE_KEYS = ("generation", "completion", "solution")
WHOLE_KEYS = ("solution",)  # fields that hold a whole program rather than a continuation
FORMATS = ("auto", "jsonl", "bigcode")


@dataclass(frozen=True)
class Sample:
    task_id: str
    sample_index: int
    generation: str
    source_language: Optional[str] = None  # set for translation samples
    whole: bool = False  # the text is a whole program (evalplus `solution`), not a continuation
    answer: Optional[str] = None  # a chat model's whole answer the generation was taken from ("chat_answer")
    reasoning: Optional[str] = None  # its separate reasoning ("chat_reasoning"), never code

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
    if key == "generation" and "completion" in rec and rec["completion"] != code:
        raise HarnessError(f"{where}: fields 'generation' and 'completion' differ; keep the one to evaluate")
    code = _unicode_text(code.lstrip(BOM), where, key)
    source = rec.get("source_language")
    if source is not None:
        try:
            source = get_language(str(source)).name
        except ValueError as exc:
            raise HarnessError(f"{where}: {exc}") from None
        if source == language_of_task(task_id).name:
            raise HarnessError(f"{where}: source_language {source} is the language of {task_id} itself; "
                               "a translation pair needs two different languages")
    idx = rec.get("sample_index")
    ck = (task_id, source or "")
    if idx is None:
        idx = counters.get(ck, 0)
    elif not isinstance(idx, int) or idx < 0:
        raise HarnessError(f"{where}: sample_index must be a non-negative integer")
    counters[ck] = max(counters.get(ck, 0), idx + 1)
    texts = {f: rec.get(f) for f in ("chat_answer", "chat_reasoning")}
    texts = {f: _unicode_text(v, where, f) if isinstance(v, str) else None for f, v in texts.items()}
    return Sample(task_id, idx, code, source, whole=key in WHOLE_KEYS, answer=texts["chat_answer"],
                  reasoning=texts["chat_reasoning"])


def _unicode_text(text: str, where: str, key: str) -> str:
    """``text`` if it can be written as UTF-8: JSON allows lone surrogates ("\\ud800"), no program or
    answer holds one, and every text field of a sample is copied into results.jsonl."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HarnessError(f"{where}: field '{key}' is not valid Unicode text (a lone surrogate "
                           f"{text[exc.start]!r} at character {exc.start})") from None
    return text


def load_samples(path, format: str = "auto", language: Optional[str] = None) -> List[Sample]:
    """The samples of a file: JSON lines (CodeGeeX, human-eval, evalplus fields) or, with ``format``
    "bigcode" or detected (a JSON list), a bigcode-evaluation-harness generations file."""
    if format not in FORMATS:
        raise HarnessError(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    if format == "bigcode" or (format == "auto" and _looks_like_json_list(path)):
        samples = load_bigcode(path, language)
    else:
        samples = _load_jsonl(path)
    if not samples:
        raise HarnessError(f"{path}: no samples")
    return samples


def _load_jsonl(path) -> List[Sample]:
    counters: Dict[tuple, int] = {}
    samples, seen = [], set()
    for lineno, rec in read_jsonl(path):
        s = parse_sample(rec, f"{path}:{lineno}", counters)
        if s.key in seen:
            raise HarnessError(f"{path}:{lineno}: duplicate sample {s.task_id} #{s.sample_index}")
        seen.add(s.key)
        samples.append(s)
    return samples


def _looks_like_json_list(path) -> bool:
    return read_text(path).lstrip().startswith("[")


def bigcode_language(path, language: Optional[str] = None) -> str:
    """The language of a bigcode generations file: ``language``, else the one its file name names."""
    if language:
        try:
            return get_language(str(language)).name
        except ValueError as exc:
            raise HarnessError(f"--language: {exc}") from None
    words = set(re.split(r"[^a-z+]+", Path(str(path)).name.lower()))
    named = {name for name, lang in LANGUAGES.items()
             if words & {name, lang.display.lower(), lang.task_prefix.lower()}}
    if len(named) != 1:
        raise HarnessError(f"{path} is a bigcode-evaluation-harness generations file (one list of programs per "
                           f"problem); give its language with --language ({', '.join(LANGUAGES)})")
    return named.pop()


def load_bigcode(path, language: Optional[str] = None) -> List[Sample]:
    """bigcode-evaluation-harness ``generations.json``: list i holds the programs of the language's problem i."""
    lang = bigcode_language(path, language)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not a JSON file ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, list) or not all(isinstance(g, list) and all(isinstance(p, str) for p in g) for g in data):
        raise HarnessError(f"{path}: a bigcode generations file is a JSON list of lists of programs (strings)")
    prefix = LANGUAGES[lang].task_prefix
    samples = []
    for i, programs in enumerate(data):
        for j, program in enumerate(programs):
            where = f"{path}: problem {i}, generation {j}"
            try:
                program.encode("utf-8")
            except UnicodeEncodeError:
                raise HarnessError(f"{where}: not valid Unicode text (a lone surrogate)") from None
            samples.append(Sample(f"{prefix}/{i}", j, program.lstrip(BOM), whole=True))
    return samples
