"""Generation stage: prompt items -> samples.jsonl (raw and cleaned side by side), resumable.

Each finished sample is appended at once, so a crash loses at most the samples in
flight and a rerun generates only the missing (task, sample index) pairs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional

from .run_options import progress_disabled
from .generation.backend import Backend, Completion, GenerationRequest, SamplingParams
from .jsonl import JsonlAppender, read_jsonl
from .languages import LANGUAGES
from .prompts import PromptItem
from .samples import sample_key

SAMPLES_FILE = "samples.jsonl"
CHAT_FENCE = "```"


def chat_instruction(item: PromptItem) -> str:
    lang = LANGUAGES[item.language].display
    if item.source_language:
        return f"Translate this {LANGUAGES[item.source_language].display} code to {lang}. Complete the code below."
    return f"Complete the following {lang} code. Continue it exactly where it stops."


def with_chat_fence(stop: Callable[[str], Optional[int]]):
    def both(text: str) -> Optional[int]:
        cuts = [c for c in (stop(text), text.find(CHAT_FENCE) if CHAT_FENCE in text else None) if c is not None]
        return min(cuts) if cuts else None
    return both


def resolve_chat(chat, backend: Backend) -> bool:
    """--chat auto|true|false (or a boolean) -> whether prompts go through the chat template.

    auto: exactly when the model's tokenizer has a chat template (instruct models); the resolved
    value is what a run records in its settings."""
    value = str(chat).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", "none"):
        return False
    if value == "auto":
        return bool(backend.has_chat_template())
    from .errors import HarnessError
    raise HarnessError(f"--chat must be auto, true or false (got {chat!r})")


def existing_samples(path: Path) -> Dict[tuple, dict]:
    if not path.exists():
        return {}
    return {sample_key(r["task_id"], r["sample_index"], r.get("source_language")): r
            for _, r in read_jsonl(path, strict=False)}


def run_generation(items: List[PromptItem], backend: Backend, params: SamplingParams, out_path: Path,
                   chat: bool = False, show_progress=None, log=print) -> int:
    """Generate what ``out_path`` lacks; returns the number of samples generated now."""
    from tqdm import tqdm

    done = existing_samples(out_path)
    requests = []
    for item in items:  # every item, even a finished one: the backend plans its batches from the full set
        missing = tuple(i for i in range(params.n)
                        if sample_key(item.task_id, i, item.source_language) not in done)
        lang = LANGUAGES[item.language]
        prompt, stop, messages = item.text, lang.stop, None
        if chat:
            code = f"{CHAT_FENCE}{lang.name}\n{item.text}"
            if backend.chat_messages:  # a chat API: the code goes in the question, the answer is turned back
                messages = [{"role": "user", "content": f"{chat_instruction(item)}\n\n{code}\n{CHAT_FENCE}"}]
            else:
                prompt = backend.chat_prompt(chat_instruction(item), code)
            stop = with_chat_fence(stop)
        requests.append(GenerationRequest(key=(item.task_id, item.source_language or ""), prompt=prompt,
                                          sample_indices=missing, stop=stop, all_indices=tuple(range(params.n)),
                                          messages=messages))
    total = sum(len(r.sample_indices) for r in requests)
    if done:
        log(f"resuming generation: {len(done)} samples on disk, {total} to generate")
    if not total:
        return 0
    by_key = {(i.task_id, i.source_language or ""): i for i in items}
    with JsonlAppender(out_path) as out, tqdm(total=total, desc="generating", unit="sample",
                                              disable=progress_disabled(show_progress)) as bar:
        def store(c: Completion):
            item = by_key[c.key]
            rec = {"task_id": item.task_id, "sample_index": c.sample_index,
                   "generation": LANGUAGES[item.language].clean(c.text), "raw_generation": c.text,
                   "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                   "completion_tokens": c.completion_tokens}
            if item.source_language:
                rec["source_language"] = item.source_language
            if c.answer is not None:
                rec["chat_answer"] = c.answer
            if getattr(c, "reasoning", None):
                rec["chat_reasoning"] = c.reasoning
            out.write(rec)
            bar.update(1)
        backend.generate(requests, params, store)
    return total
