"""The vllm backend. The real test needs vLLM and a CUDA GPU (skipped elsewhere); beside it, the
stop-string/continuation logic is checked with a stand-in for ``vllm.LLM`` that follows vLLM's
documented semantics (stop strings kept with include_stop_str_in_output, stop_reason, max_tokens)."""
import pytest

from humaneval_x.cleaning import cpp_stop, python_stop
from humaneval_x.errors import HarnessError
from humaneval_x.generation.backend import GenerationRequest, SamplingParams, sample_seed
from humaneval_x.generation.factory import get_backend
from humaneval_x.generation.vllm_backend import VLLMBackend


def _vllm_usable() -> bool:
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(_vllm_usable(), reason="vLLM and a GPU are here: the real test runs instead")
def test_without_vllm_or_gpu_one_clear_error():
    backend = get_backend("vllm", model="some/model")
    req = GenerationRequest(key=("Python/0", ""), prompt="def f():\n", sample_indices=(0,), stop=python_stop)
    with pytest.raises(HarnessError, match="--backend vllm needs (vLLM|a CUDA GPU)"):
        backend.generate([req], SamplingParams(n=1), lambda c: None)


# ------------------------------------------------------------------ a stand-in LLM (char tokens)
class CharTokenizer:
    def __call__(self, text):
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids if i != 0)


class SP:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Out:
    def __init__(self, token_ids, finish_reason, stop_reason):
        self.token_ids, self.finish_reason, self.stop_reason = token_ids, finish_reason, stop_reason


class ScriptedLLM:
    """Continues each prompt with a fixed text (the "model"), stopping as vLLM does."""

    def __init__(self, scripts):
        self.scripts, self.calls = scripts, []

    def get_tokenizer(self):
        return CharTokenizer()

    def generate(self, prompts, sps, use_tqdm=False):
        self.calls.append([(p, s) for p, s in zip(prompts, sps)])
        outs = []
        for p, sp in zip(prompts, sps):
            text = "".join(map(chr, p["prompt_token_ids"]))
            base = next(b for b in self.scripts if text.startswith(b))
            stream = self.scripts[base][len(text) - len(base):]
            made, reason, stop_reason = "", None, None
            for ch in stream:
                made += ch
                hit = next((s for s in (getattr(sp, "stop", None) or []) if made.endswith(s)), None)
                if hit:
                    reason, stop_reason = "stop", hit
                    break
                if len(made) >= sp.max_tokens:
                    reason = "length"
                    break
            else:
                reason = "stop"  # EOS
            ids = [ord(c) for c in made] + ([0] if reason == "stop" and stop_reason is None else [])
            outs.append(type("R", (), {"outputs": [Out(ids, reason, stop_reason)]})())
        return outs


def test_a_brace_at_column_zero_that_closes_an_inner_block_is_continued():
    prompt = "int f(int x){\n"
    body = "    if (x) {\n        x++;\n}\n    return x;\n}\nint main(){}\n"  # inner block closed at column 0
    llm = ScriptedLLM({prompt: body})
    backend = VLLMBackend(model="m", llm=llm, sampling_params_cls=SP)
    got = []
    req = GenerationRequest(key=("CPP/0", ""), prompt=prompt, sample_indices=(0, 1), stop=cpp_stop)
    backend.generate([req], SamplingParams(n=2, temperature=0.8, max_new_tokens=200, seed=5), got.append)
    want = "    if (x) {\n        x++;\n}\n    return x;\n}"
    assert sorted((c.sample_index, c.text, c.finish_reason) for c in got) == [(0, want, "stop"), (1, want, "stop")]
    assert len(llm.calls) == 2 and backend.rounds == 2  # round 1 stopped at the inner "\n}", round 2 went on
    first, second = llm.calls
    assert [sp.seed for _, sp in first] == [sample_seed(5, ("CPP/0", ""), s) for s in (0, 1)]
    assert all(sp.stop == ["\n}"] and sp.include_stop_str_in_output for _, sp in first)
    # the continuation is fed the exact tokens so far, with a seed of its own
    assert second[0][0]["prompt_token_ids"] == [ord(c) for c in prompt + "    if (x) {\n        x++;\n}"]
    assert second[0][1].seed not in {sp.seed for _, sp in first}
    assert second[0][1].max_tokens == 200 - len("    if (x) {\n        x++;\n}")


def test_eos_length_and_python_stops():
    llm = ScriptedLLM({"def f():\n": "    return 1\ndef g():\n    pass\n", "def h():\n": "    return 2",
                       "def k():\n": "    x = 1\n" * 50})
    backend = VLLMBackend(model="m", llm=llm, sampling_params_cls=SP, max_model_len=None)
    reqs = [GenerationRequest(key=(f"Python/{i}", ""), prompt=p, sample_indices=(0,), stop=python_stop)
            for i, p in enumerate(["def f():\n", "def h():\n", "def k():\n"])]
    got = {}
    backend.generate(reqs, SamplingParams(n=1, temperature=0, max_new_tokens=30), lambda c: got.__setitem__(c.key[0], c))
    assert (got["Python/0"].text, got["Python/0"].finish_reason) == ("    return 1", "stop")
    assert (got["Python/1"].text, got["Python/1"].finish_reason) == ("    return 2", "eos")
    assert got["Python/2"].finish_reason == "length" and got["Python/2"].completion_tokens == 30
    assert len(llm.calls) == 1


# ------------------------------------------------------------------ the real thing (GPU only)
def test_real_vllm_generates_every_sample_with_stop_rule(tmp_path):
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from humaneval_x.generation.loading import default_model_path, split_model_path
    directory, gguf = split_model_path(default_model_path())
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    backend = get_backend("vllm", model=str(tmp_path), gpu_memory_utilization=0.3, max_model_len=1024)
    reqs = [GenerationRequest(key=("Python/0", ""), prompt="def f(x):\n", sample_indices=(0, 1, 2), stop=python_stop),
            GenerationRequest(key=("CPP/0", ""), prompt="int f(int x){\n", sample_indices=(0, 1), stop=cpp_stop)]
    got = []
    backend.generate(reqs, SamplingParams(n=3, temperature=0.8, max_new_tokens=64, seed=1), got.append)
    assert sorted((c.key[0], c.sample_index) for c in got) == [("CPP/0", 0), ("CPP/0", 1), ("Python/0", 0),
                                                                ("Python/0", 1), ("Python/0", 2)]
    for c in got:
        assert c.completion_tokens <= 64 and c.finish_reason in ("stop", "eos", "length")
        if c.finish_reason == "stop" and c.key[0].startswith("Python"):
            assert python_stop(c.text) is None  # cut where the rule fired: nothing left to cut
        elif c.finish_reason == "stop":
            assert c.text.endswith("}") and cpp_stop(c.text) == len(c.text)  # cut just after the closing brace
    info = backend.describe()
    assert info["vllm_version"] and info["gpu"] and info["enable_prefix_caching"] is True
