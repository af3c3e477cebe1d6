"""The model backend interface: prompts + sampling parameters in, completions out.

Implementations are chosen by name in ``factory.py`` (imported lazily there).
"""
from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional


@dataclass(frozen=True)
class SamplingParams:
    n: int = 200                    # samples per prompt
    temperature: float = 0.8        # 0: greedy
    top_p: float = 0.95
    max_new_tokens: int = 1024
    seed: int = 0


PRESETS: Dict[str, SamplingParams] = {
    # the CodeGeeX paper: n=200, T=0.8, top_p=0.95, up to 1024 new tokens; pass@1/10/100
    "codegeex": SamplingParams(n=200, temperature=0.8, top_p=0.95, max_new_tokens=1024),
    # the CodeGeeX2 tables: pass@1 from n=20 at T=0.2
    "pass1": SamplingParams(n=20, temperature=0.2, top_p=0.95, max_new_tokens=1024),
    # one greedy sample per problem
    "greedy": SamplingParams(n=1, temperature=0.0, top_p=1.0, max_new_tokens=1024),
}


@dataclass
class GenerationRequest:
    key: tuple                      # what the samples belong to, e.g. (task_id, source_language)
    prompt: str
    sample_indices: tuple           # which samples to produce (a resumed run asks for the missing ones)
    stop: Optional[Callable[[str], Optional[int]]] = None  # completion -> cut index, checked as tokens arrive
    forced_lengths: Optional[Dict[int, int]] = None  # benchmark only: sample index -> exact new tokens
    # every sample index of the full run (done or not), so that a resumed run plans the same batches
    # as an uninterrupted one; None: the same as sample_indices
    all_indices: Optional[tuple] = None
    # backends that take a conversation (``Backend.chat_messages``): the chat to answer, with ``prompt``
    # then holding the code the answer has to continue
    messages: Optional[List[dict]] = None

    @property
    def planned_indices(self) -> tuple:
        return self.all_indices if self.all_indices is not None else self.sample_indices


@dataclass
class Completion:
    key: tuple
    sample_index: int
    text: str                       # the raw completion, cut where the stop rule fired
    finish_reason: str              # stop | eos | length
    prompt_tokens: int
    completion_tokens: int
    answer: Optional[str] = None    # chat backends: the model's whole answer, before the code was taken out
    reasoning: Optional[str] = None  # chat backends: the answer's separate reasoning (never code), if any


def sample_seed(seed: int, key: tuple, sample_index: int) -> int:
    """Each sample's own random stream: the same sample is reproducible whatever the batching or resume."""
    h = hashlib.sha256(repr((seed, key, sample_index)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


class Backend(abc.ABC):
    name = "abstract"
    # True: --chat sends ``GenerationRequest.messages`` (a chat API) instead of a chat_prompt() text
    chat_messages = False

    @abc.abstractmethod
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        """Produce every requested sample, calling ``on_completion`` as each one finishes."""

    def describe(self) -> dict:
        return {"backend": self.name}

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        """Prompt text for instruct models: the chat template, with the answer started by the code."""
        raise NotImplementedError(f"{self.name} has no chat template support")

    def has_chat_template(self) -> bool:
        """Whether ``chat_prompt`` can be used (``--chat auto`` applies it exactly then)."""
        return False


def server_stops(key: tuple) -> List[str]:
    """The stop strings a server may stop at for a request key (task_id, source_language): the target
    language's own (``Language.server_stops``: where its clean-up or stop rule cuts anyway, so only a
    saving, never a change of result), at most 4 (OpenAI's limit)."""
    from ..languages import language_of_task
    return list(language_of_task(key[0]).server_stops)[:4]


class LocalTokenizerChat:
    """Chat prompts from a local tokenizer's template, for backends that hold ``tokenizer`` and
    ``model_path`` once ``_ensure_loaded()`` has run (transformers, transformers-plain, vLLM)."""

    def has_chat_template(self) -> bool:
        from .loading import has_chat_template
        self._ensure_loaded()
        return has_chat_template(self.tokenizer)

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        from .loading import chat_prompt
        self._ensure_loaded()
        return chat_prompt(self.tokenizer, self.model_path, instruction, response_prefix)
