"""A throughput-oriented transformers backend.

Compared with calling ``generate(num_return_sequences=n)`` per problem:
- each prompt is prefilled ONCE and its KV cache is shared by all its samples
  (the cache rows are expanded by index, not recomputed);
- several prompts of similar token length are batched into one wave (prompts are
  grouped by length, so little padding is computed);
- every sequence stops as soon as its language's stop rule fires (checked as
  tokens arrive, only when a token that can end a function arrives), and its row is
  dropped from the batch at once, so finished samples cost nothing more;
- bf16 on GPU, fp32 on CPU; each sample has its own seeded random stream, so a
  sample is reproducible whatever the batching or a resumed run.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional

from .backend import Backend, Completion, GenerationRequest, SamplingParams, sample_seed

TRIGGER_CHARS = ("\n", "}", "`")


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, model: Optional[str] = None, device: Optional[str] = None, dtype: Optional[str] = None,
                 batch_size: Optional[int] = None, max_prompts_per_wave: int = 16, model_obj=None, tokenizer=None):
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
        torch.set_grad_enabled(False)

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        self._ensure_loaded()
        if not getattr(self.tokenizer, "chat_template", None):
            from ..errors import HarnessError
            raise HarnessError(f"{self.model_path}: the tokenizer has no chat template; run without --chat")
        messages = [{"role": "user", "content": f"{instruction}\n\n{response_prefix}"}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + response_prefix

    def describe(self) -> dict:
        return {"backend": self.name, "model": str(self.model_path), "device": self.device,
                "batch_size": self.batch_size, "dtype": str(getattr(self.model, "dtype", ""))}

    # ------------------------------------------------------------------ scheduling
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        self._ensure_loaded()
        requests = [r for r in requests if r.sample_indices]
        encoded = [self.tokenizer(r.prompt)["input_ids"] for r in requests]
        order = sorted(range(len(requests)), key=lambda i: (len(encoded[i]), i))  # group by length
        rows = [(i, s) for i in order for s in requests[i].sample_indices]
        wave: List[tuple] = []
        for row in rows:
            prompts = {r[0] for r in wave} | {row[0]}
            if wave and (len(wave) >= self.batch_size or len(prompts) > self.max_prompts_per_wave):
                self._run_wave(wave, requests, encoded, params, on_completion)
                wave = []
            wave.append(row)
        if wave:
            self._run_wave(wave, requests, encoded, params, on_completion)

    # ------------------------------------------------------------------ one wave
    def _run_wave(self, wave, requests, encoded, params, on_completion):
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
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids, use_cache=True)
        cache = out.past_key_values
        expand = torch.tensor([prompt_ids.index(r) for r, _ in wave], device=dev)
        cache.batch_select_indices(expand)  # shared prefix: one prefill, rows copied by index
        logits = out.logits[:, -1, :].float()[expand]
        mask = mask[expand]
        del out

        active = list(range(len(wave)))
        ids: List[List[int]] = [[] for _ in wave]
        pending = [False] * len(wave)
        gens = [torch.Generator().manual_seed(sample_seed(params.seed, requests[r].key, s)) for r, s in wave]
        for _ in range(params.max_new_tokens + 1):
            tokens = self._sample(logits, params, [gens[a] for a in active]).tolist()
            finished = []
            for j, tok in enumerate(tokens):
                row = active[j]
                r, s = wave[row]
                reason, text = self._advance(row, tok, ids, pending, requests[r], s, params)
                if reason is not None:
                    finished.append(j)
                    on_completion(Completion(requests[r].key, s, text, reason, len(encoded[r]), len(ids[row])))
            if finished:
                keep = [j for j in range(len(active)) if j not in set(finished)]
                if not keep:
                    break
                idx = torch.tensor(keep, device=dev)
                cache.batch_select_indices(idx)  # finished rows leave the batch at once
                mask = mask[idx]
                active = [active[j] for j in keep]
                tokens = [tokens[j] for j in keep]
            step = torch.tensor(tokens, device=dev).unsqueeze(1)
            mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
            out = self.model(input_ids=step, attention_mask=mask, position_ids=mask.sum(-1, keepdim=True) - 1,
                             past_key_values=cache, use_cache=True)
            cache = out.past_key_values
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
