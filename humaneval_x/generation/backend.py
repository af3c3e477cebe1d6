"""The model backend interface: prompts + sampling parameters in, completions out.

Implementations are chosen by name and imported lazily, so torch/transformers load
only when a model is really used.
"""
from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional


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


@dataclass
class Completion:
    key: tuple
    sample_index: int
    text: str                       # the raw completion, cut where the stop rule fired
    finish_reason: str              # stop | eos | length
    prompt_tokens: int
    completion_tokens: int


def sample_seed(seed: int, key: tuple, sample_index: int) -> int:
    """Each sample's own random stream: the same sample is reproducible whatever the batching or resume."""
    h = hashlib.sha256(repr((seed, key, sample_index)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


class Backend(abc.ABC):
    name = "abstract"

    @abc.abstractmethod
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        """Produce every requested sample, calling ``on_completion`` as each one finishes."""

    def describe(self) -> dict:
        return {"backend": self.name}

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        """Prompt text for instruct models: the chat template, with the answer started by the code."""
        raise NotImplementedError(f"{self.name} has no chat template support")


def get_backend(name: str, **kwargs) -> Backend:
    if name in ("transformers", "hf"):
        from .transformers_backend import TransformersBackend
        return TransformersBackend(**kwargs)
    if name in ("transformers-plain", "plain"):
        from .plain_backend import PlainGenerateBackend
        return PlainGenerateBackend(**kwargs)
    raise ValueError(f"unknown backend {name!r}; choose transformers or transformers-plain")
