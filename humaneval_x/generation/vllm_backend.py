"""Offline vLLM (``pip install 'humaneval-x[vllm]'``, CUDA GPUs only) as a backend.

All samples of all prompts go to ``LLM.generate`` at once (in chunks of ``chunk_size`` sequences, so
finished samples are written as each chunk ends and a crash loses at most one chunk), one sequence
per sample with that sample's own seed (``sample_seed``: the same stream whatever the batching or a
resume), prefix caching on, so the n sequences of a prompt share its prefill like ``n`` would.

Stopping: vLLM stops at literal strings, our stop rule is a brace count or an indentation rule. Each
sequence stops at strings where a function usually ends (the language's ``Language.vllm_stops``), kept in the output; then
our stop rule decides. Where it has not fired (a brace at column 0 that closed an inner block), the
sequence is continued from its exact tokens (``prompt_token_ids`` = prompt + tokens so far, a seed
of its own per round), so a stop string never changes a sample's distribution, only its cost.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional

from ..errors import HarnessError
from ..languages import LANGUAGES
from .backend import Backend, Completion, GenerationRequest, LocalTokenizerChat, SamplingParams, sample_seed


class _Seq:
    __slots__ = ("req", "index", "prompt_ids", "ids", "round", "language")

    def __init__(self, req, index, prompt_ids, language):
        self.req, self.index, self.prompt_ids, self.language = req, index, prompt_ids, language
        self.ids: List[int] = []
        self.round = 0


class VLLMBackend(LocalTokenizerChat, Backend):
    name = "vllm"

    def __init__(self, model: Optional[str] = None, dtype: Optional[str] = None, max_model_len: Optional[int] = None,
                 tensor_parallel_size: Optional[int] = None, gpu_memory_utilization: Optional[float] = None,
                 chunk_size: int = 4096, llm=None, sampling_params_cls=None, **_):
        self.model_path = model
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.tensor_parallel_size = tensor_parallel_size or 1
        self.gpu_memory_utilization = gpu_memory_utilization or 0.9
        self.chunk_size = chunk_size
        self.llm = llm
        self._sp = sampling_params_cls
        self.tokenizer = llm.get_tokenizer() if llm is not None else None
        self.rounds = 0

    # ------------------------------------------------------------------ loading
    def _ensure_loaded(self):
        if self.llm is not None:
            return
        try:
            import vllm
        except ImportError:
            raise HarnessError("--backend vllm needs vLLM: pip install 'humaneval-x[vllm]' "
                               "(CUDA GPUs only)") from None
        import torch
        if not torch.cuda.is_available():
            raise HarnessError("--backend vllm needs a CUDA GPU; use --backend transformers on this machine")
        kwargs = dict(model=self.model_path, tensor_parallel_size=self.tensor_parallel_size,
                      gpu_memory_utilization=self.gpu_memory_utilization, enable_prefix_caching=True, seed=0)
        if self.max_model_len:
            kwargs["max_model_len"] = self.max_model_len
        if self.dtype:
            kwargs["dtype"] = self.dtype
        try:
            self.llm = vllm.LLM(**kwargs)
        except (OSError, ValueError) as exc:
            raise HarnessError(f"vLLM cannot load {self.model_path}: {exc}") from exc
        self._sp = vllm.SamplingParams
        self.tokenizer = self.llm.get_tokenizer()

    def _context_limit(self) -> Optional[int]:
        config = getattr(getattr(self.llm, "llm_engine", None), "model_config", None)
        return getattr(config, "max_model_len", None) or self.max_model_len



    def describe(self) -> dict:
        info = {"backend": self.name, "model": str(self.model_path), "tensor_parallel_size": self.tensor_parallel_size,
                "gpu_memory_utilization": self.gpu_memory_utilization, "max_model_len": self._context_limit()
                if self.llm is not None else self.max_model_len, "enable_prefix_caching": True,
                "chunk_size": self.chunk_size, "continuation_rounds": self.rounds}
        try:
            import vllm
            info["vllm_version"] = vllm.__version__
        except ImportError:
            info["vllm_version"] = None
        try:
            import torch
            info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        except Exception:  # describe() never fails a run
            info["gpu"] = None
        return info

    # ------------------------------------------------------------------ generation
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        from ..languages import language_of_task

        requests = [r for r in requests if r.sample_indices]
        if not requests:
            return
        self._ensure_loaded()
        todo: List[_Seq] = []
        for r in requests:
            ids = list(self.tokenizer(r.prompt)["input_ids"])
            lang = language_of_task(r.key[0]).name
            todo.extend(_Seq(r, s, ids, lang) for s in r.sample_indices)
        limit = self._context_limit()
        while todo:
            chunk, todo = todo[:self.chunk_size], todo[self.chunk_size:]
            prompts, sps, live = [], [], []
            for seq in chunk:
                budget = self._budget(seq, params, limit)
                if budget <= 0:
                    self._finish(seq, "length", on_completion)
                    continue
                prompts.append({"prompt_token_ids": seq.prompt_ids + seq.ids})
                sps.append(self._sampling(seq, params, budget))
                live.append(seq)
            if not live:
                continue
            outputs = self.llm.generate(prompts, sps, use_tqdm=False)
            for seq, out in zip(live, outputs):
                if self._advance(seq, out.outputs[0], params, limit, on_completion):
                    seq.round += 1
                    self.rounds += 1
                    todo.append(seq)

    def _budget(self, seq: _Seq, params: SamplingParams, limit: Optional[int]) -> int:
        forced = seq.req.forced_lengths.get(seq.index) if seq.req.forced_lengths else None
        budget = (forced if forced is not None else params.max_new_tokens) - len(seq.ids)
        if limit:
            budget = min(budget, limit - len(seq.prompt_ids) - len(seq.ids))
        return budget

    def _sampling(self, seq: _Seq, params: SamplingParams, budget: int):
        key = seq.req.key if seq.round == 0 else tuple(seq.req.key) + (f"round{seq.round}",)
        kwargs = dict(n=1, temperature=params.temperature, top_p=params.top_p if params.temperature > 0 else 1.0,
                      max_tokens=budget, seed=sample_seed(params.seed, key, seq.index), skip_special_tokens=True)
        if seq.req.forced_lengths and seq.index in seq.req.forced_lengths:
            kwargs.update(min_tokens=budget, ignore_eos=True)  # benchmark: an exact output length
        elif seq.req.stop is not None:
            kwargs.update(stop=list(LANGUAGES[seq.language].vllm_stops), include_stop_str_in_output=True)
        return self._sp(**kwargs)

    def _advance(self, seq: _Seq, out, params: SamplingParams, limit, on_completion) -> bool:
        """Take one round's output; True when the sequence has to go on (a stop string, our rule not fired)."""
        seq.ids.extend(out.token_ids)
        forced = seq.req.forced_lengths.get(seq.index) if seq.req.forced_lengths else None
        if forced is not None:
            self._finish(seq, "length", on_completion)
            return False
        text = self._decode(seq.ids)
        cut = seq.req.stop(text) if seq.req.stop is not None else None
        if cut is not None:
            self._finish(seq, "stop", on_completion, text[:cut])
            return False
        if out.finish_reason == "length" or self._budget(seq, params, limit) <= 0:
            self._finish(seq, "length", on_completion, text)
            return False
        if isinstance(getattr(out, "stop_reason", None), str):  # one of our strings, not the end: go on
            return True
        self._finish(seq, "eos", on_completion, text)
        return False

    def _decode(self, ids: List[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _finish(self, seq: _Seq, reason: str, on_completion, text: Optional[str] = None) -> None:
        if text is None:
            text = self._decode(seq.ids)
        on_completion(Completion(seq.req.key, seq.index, text, reason, len(seq.prompt_ids), len(seq.ids)))
