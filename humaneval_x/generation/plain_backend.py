"""The baseline: plain ``model.generate(num_return_sequences=n)`` per problem, as other harnesses do.

Kept as a backend for comparison (benchmarks, greedy cross-checks). All n sequences
of a problem run until the last one stops; the stop rule is applied afterwards.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from .backend import Backend, Completion, GenerationRequest, LocalTokenizerChat, SamplingParams


class PlainGenerateBackend(LocalTokenizerChat, Backend):
    name = "transformers-plain"

    def __init__(self, model: Optional[str] = None, device: Optional[str] = None, dtype: Optional[str] = None,
                 batch_size: Optional[int] = None, model_obj=None, tokenizer=None, **_):
        self.model_path, self.device, self.dtype = model, device, dtype
        self.batch_size = batch_size
        self.model, self.tokenizer = model_obj, tokenizer

    def _ensure_loaded(self):
        if self.model is None:
            from .loading import load_model_and_tokenizer
            self.model, self.tokenizer, self.model_path = load_model_and_tokenizer(self.model_path, self.device,
                                                                                   self.dtype)
        self.device = str(next(self.model.parameters()).device)



    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        self._ensure_loaded()
        tok = self.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        for req in requests:
            if not req.sample_indices:
                continue
            enc = tok(req.prompt, return_tensors="pt").to(self.device)
            plen = enc["input_ids"].shape[1]
            chunk = self.batch_size or len(req.sample_indices)
            for start in range(0, len(req.sample_indices), chunk):
                indices = req.sample_indices[start:start + chunk]
                kwargs = dict(max_new_tokens=params.max_new_tokens, num_return_sequences=len(indices),
                              pad_token_id=pad)
                if params.temperature > 0:
                    kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
                    torch.manual_seed(params.seed + start)
                else:
                    kwargs.update(do_sample=False)
                if req.forced_lengths:
                    longest = max(req.forced_lengths[i] for i in indices)
                    kwargs.update(max_new_tokens=longest, min_new_tokens=longest)
                elif req.stop is not None:
                    stop = req.stop

                    class AllStopped(StoppingCriteria):  # the bigcode-harness way: stop when every row stopped
                        def __call__(self, input_ids, scores, **kw):
                            texts = tok.batch_decode(input_ids[:, plen:], skip_special_tokens=True)
                            return torch.tensor([stop(t) is not None for t in texts], device=input_ids.device)

                    kwargs["stopping_criteria"] = StoppingCriteriaList([AllStopped()])
                out = self.model.generate(**enc, **kwargs)
                for row, s in enumerate(indices):
                    new = out[row, plen:].tolist()
                    if req.forced_lengths:
                        new = new[:req.forced_lengths[s]]
                        text, reason = tok.decode(new, skip_special_tokens=True), "length"
                    else:
                        eos = tok.eos_token_id
                        if eos in new:
                            new, reason = new[:new.index(eos)], "eos"
                        else:
                            reason = "length"
                        text = tok.decode(new, skip_special_tokens=True)
                        cut = req.stop(text) if req.stop else None
                        if cut is not None:
                            text, reason = text[:cut], "stop"
                    on_completion(Completion(req.key, s, text, reason, plen, len(new)))
