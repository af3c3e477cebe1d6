"""A throughput-oriented transformers backend.

Compared with calling ``generate(num_return_sequences=n)`` per problem:
- each prompt is prefilled ONCE and its KV cache is shared by all its samples
  (the cache rows are expanded by index, not recomputed);
- several prompts of similar token length are batched into one wave (prompts are
  grouped by length, so little padding is computed);
- every sequence stops as soon as its language's stop rule fires (checked as
  tokens arrive, only when a token that can end a function arrives), and its row is
  dropped from the batch at once, so finished samples cost nothing more;
- bf16 on GPU, fp32 on CPU.

Reproducibility, honestly: every sample has its own seeded random stream (``sample_seed``),
but the logits of a row depend in their last bits on the batch it is computed in (kernels
choose other reduction orders for other shapes), and a near-tie then picks another token.
So samples are reproducible by construction, not by hoping two batch shapes round alike:
the waves are planned from the FULL request set (every sample index of every prompt, done or
not), and a resumed run re-runs each wave that still misses a sample with its complete,
original composition (rows already on disk are recomputed and dropped, not emitted), so
every missing sample is computed in exactly the batch it would have had in an uninterrupted
run. Same request set, batch settings, device, dtype and library versions: the same samples.
Other batch settings: the same seeds and the same distribution, not the same bits.
"""
from __future__ import annotations

import inspect
from typing import Callable, Iterable, List, Optional, Sequence

from .backend import Backend, Completion, GenerationRequest, LocalTokenizerChat, SamplingParams, sample_seed

TRIGGER_CHARS = ("\n", "}", "`")


def plan_waves(prompt_lengths: Sequence[int], indices: Sequence[Sequence[int]], batch_size: int,
               max_prompts_per_wave: int) -> List[List[tuple]]:
    """The waves of a run: lists of (request number, sample index), decoded together.

    A pure function of the FULL request set (every prompt's length and all its planned sample
    indices, whether already generated or not) and the batch settings, so a resumed run forms the
    same waves as an uninterrupted one. Rows are grouped by prompt length (little padding); a wave
    holds at most ``batch_size`` rows and ``max_prompts_per_wave`` distinct prompts.
    """
    order = sorted(range(len(prompt_lengths)), key=lambda i: (prompt_lengths[i], i))
    waves: List[List[tuple]] = []
    wave: List[tuple] = []
    prompts: set = set()
    for r in order:
        for s in indices[r]:
            if wave and (len(wave) >= batch_size or (r not in prompts and len(prompts) >= max_prompts_per_wave)):
                waves.append(wave)
                wave, prompts = [], set()
            wave.append((r, s))
            prompts.add(r)
    if wave:
        waves.append(wave)
    return waves


def _cache_of(out):
    """The KV cache a forward pass returned (``cache`` now; ``past_key_values`` in older outputs)."""
    cache = out.get("cache") if hasattr(out, "get") else None
    return cache if cache is not None else out["past_key_values"]


class TransformersBackend(LocalTokenizerChat, Backend):
    name = "transformers"

    def __init__(self, model: Optional[str] = None, device: Optional[str] = None, dtype: Optional[str] = None,
                 batch_size: Optional[int] = None, max_prompts_per_wave: Optional[int] = None, model_obj=None,
                 tokenizer=None):
        self.model_path = model
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.max_prompts_per_wave = max_prompts_per_wave
        self.model = model_obj
        self.tokenizer = tokenizer
        self._trigger = None

    # ------------------------------------------------------------------ loading
    def _ensure_loaded(self):
        import torch
        if self.model is None:
            from .loading import load_model_and_tokenizer
            self.model, self.tokenizer, self.model_path = load_model_and_tokenizer(self.model_path, self.device,
                                                                                   self.dtype)
        self.device = str(next(self.model.parameters()).device)
        if self.batch_size is None:
            self.batch_size = 128 if self.device.startswith("cuda") else 16
        if self._trigger is None:
            vocab = len(self.tokenizer)
            pieces = self.tokenizer.batch_decode([[i] for i in range(vocab)])
            self._trigger = [any(c in p for c in TRIGGER_CHARS) for p in pieces]
            self._trigger += [False] * max(0, self.model.config.vocab_size - vocab)
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self._eos = set(eos if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else []))
        pad = self.tokenizer.pad_token_id
        self._pad = pad if pad is not None else (min(self._eos) if self._eos else 0)
        # the KV cache argument of forward(): `cache` in current transformers (`past_key_values` is
        # deprecated and warns on every call), `past_key_values` in models/versions without it
        params = inspect.signature(self.model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        # logits of the last position only (as generate() asks): the prefill's full logits are rows x
        # prompt length x vocabulary floats, gigabytes for a wave of long prompts
        self._last_logits = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
        torch.set_grad_enabled(False)



    def describe(self) -> dict:
        return {"backend": self.name, "model": str(self.model_path), "device": self.device,
                "batch_size": self.batch_size, "dtype": str(getattr(self.model, "dtype", ""))}

    # ------------------------------------------------------------------ scheduling
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        self._ensure_loaded()
        requests = list(requests)
        encoded = [self.tokenizer(r.prompt)["input_ids"] for r in requests]
        waves = plan_waves([len(e) for e in encoded], [r.planned_indices for r in requests], self.batch_size,
                           self.max_prompts_per_wave or self.batch_size)
        wanted = [set(r.sample_indices) for r in requests]
        for wave in waves:
            if any(s in wanted[r] for r, s in wave):  # else every sample of this wave is already on disk
                self._run_wave(wave, requests, encoded, params, on_completion, wanted)

    # ------------------------------------------------------------------ one wave
    def _run_wave(self, wave, requests, encoded, params, on_completion, wanted):
        import torch

        dev = self.device
        prompt_ids = list(dict.fromkeys(r for r, _ in wave))
        lens = [len(encoded[r]) for r in prompt_ids]
        width = max(lens)
        input_ids = torch.full((len(prompt_ids), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(prompt_ids), width), dtype=torch.long)
        for j, r in enumerate(prompt_ids):  # left padding: every prompt ends at the same column
            input_ids[j, width - lens[j]:] = torch.tensor(encoded[r])
            mask[j, width - lens[j]:] = 1
        input_ids, mask = input_ids.to(dev), mask.to(dev)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True,
                         **self._last_logits)
        cache = _cache_of(out)
        expand = torch.tensor([prompt_ids.index(r) for r, _ in wave], device=dev)
        cache.batch_select_indices(expand)  # shared prefix: one prefill, rows copied by index
        logits = out.logits[:, -1, :].float()[expand]
        mask = mask[expand]
        del out

        active = list(range(len(wave)))
        ids: List[List[int]] = [[] for _ in wave]
        pending = [False] * len(wave)
        gens = [torch.Generator().manual_seed(sample_seed(params.seed, requests[r].key, s)) for r, s in wave]
        owed = sum(s in wanted[r] for r, s in wave)  # samples of this wave still to deliver
        for _ in range(params.max_new_tokens + 1):
            tokens = self._sample(logits, params, [gens[a] for a in active]).tolist()
            finished = []
            for j, tok in enumerate(tokens):
                row = active[j]
                r, s = wave[row]
                reason, text = self._advance(row, tok, ids, pending, requests[r], s, params)
                if reason is not None:
                    finished.append(j)
                    if s in wanted[r]:
                        owed -= 1
                        on_completion(Completion(requests[r].key, s, text, reason, len(encoded[r]), len(ids[row])))
            if finished:
                keep = [j for j in range(len(active)) if j not in set(finished)]
                if not keep or not owed:  # rows on disk only ran to keep the batch as it was: stop
                    break
                idx = torch.tensor(keep, device=dev)
                cache.batch_select_indices(idx)  # finished rows leave the batch at once
                mask = mask[idx]
                active = [active[j] for j in keep]
                tokens = [tokens[j] for j in keep]
            step = torch.tensor(tokens, device=dev).unsqueeze(1)
            mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
            out = self.model(input_ids=step, attention_mask=mask, position_ids=mask.sum(-1, keepdim=True) - 1,
                             **{self._cache_arg: cache}, use_cache=True, **self._last_logits)
            cache = _cache_of(out)
            logits = out.logits[:, -1, :].float()
            del out

    def _advance(self, row, tok, ids, pending, req: GenerationRequest, s: int, params: SamplingParams):
        """Append one token; (finish reason, completion text) when the row is done."""
        forced = req.forced_lengths.get(s) if req.forced_lengths else None
        if forced is not None:
            ids[row].append(tok)
            if len(ids[row]) >= forced:
                return "length", self._decode(ids[row])
            return None, None
        if tok in self._eos:
            return "eos", self._decode(ids[row])
        ids[row].append(tok)
        trigger = tok < len(self._trigger) and self._trigger[tok]
        if req.stop is not None and (trigger or pending[row]):
            text = self._decode(ids[row])
            cut = req.stop(text)
            if cut is not None:
                return "stop", text[:cut]
        pending[row] = trigger  # Python's rule fires on the token AFTER a newline
        if len(ids[row]) >= params.max_new_tokens:
            return "length", self._decode(ids[row])
        return None, None

    def _decode(self, ids: List[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    @staticmethod
    def _sample(logits, params: SamplingParams, gens):
        import torch

        if params.temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits / params.temperature, dim=-1)
        sorted_p, sorted_i = probs.sort(dim=-1, descending=True)
        cum = sorted_p.cumsum(-1)
        if params.top_p < 1.0:  # nucleus: keep the smallest prefix whose mass reaches top_p
            sorted_p = sorted_p.masked_fill(cum - sorted_p > params.top_p, 0.0)
            cum = sorted_p.cumsum(-1)
        u = torch.tensor([torch.rand(1, generator=g).item() for g in gens], dtype=cum.dtype).to(cum.device)
        pick = torch.searchsorted(cum, (u * cum[:, -1]).unsqueeze(1)).clamp(max=cum.shape[1] - 1)
        return sorted_i.gather(1, pick).squeeze(1)
