"""Generation without a GPU: a tiny random model (built here) and the real SmolLM2 default model."""
import json

import pytest

torch = pytest.importorskip("torch")

from humaneval_x.generate import SAMPLES_FILE, run_generation
from humaneval_x.generation.backend import GenerationRequest, SamplingParams, get_backend
from humaneval_x.generation.plain_backend import PlainGenerateBackend
from humaneval_x.generation.transformers_backend import TransformersBackend
from humaneval_x.languages import LANGUAGES
from humaneval_x.prompts import generation_items, translation_items


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from humaneval_x.generation.loading import default_model_path, split_model_path
    directory, gguf = split_model_path(default_model_path())
    return AutoTokenizer.from_pretrained(directory, gguf_file=gguf)


@pytest.fixture(scope="session")
def tiny_model(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return LlamaForCausalLM(cfg).eval()


def requests_for(problems, tids, n):
    return [GenerationRequest((t, ""), problems[t].prompt, tuple(range(n)), LANGUAGES[problems[t].language].stop)
            for t in tids]


TIDS = ["Python/0", "CPP/5", "Go/12", "JavaScript/30", "Java/2"]


def collect(backend, reqs, params):
    out = {}
    backend.generate(reqs, params, lambda c: out.__setitem__((c.key, c.sample_index), c))
    return out


def test_greedy_matches_plain_generate(problems, tiny_model, tokenizer):
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=20)
    reqs = requests_for(problems, TIDS, 1)
    fast = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=1), reqs, params)
    plain = collect(PlainGenerateBackend(model_obj=tiny_model, tokenizer=tokenizer), reqs, params)
    assert fast.keys() == plain.keys() and len(fast) == len(TIDS)
    for k in fast:
        assert fast[k].text == plain[k].text, k
        assert fast[k].finish_reason == plain[k].finish_reason


def test_sampling_is_reproducible_whatever_the_batching(problems, tiny_model, tokenizer):
    params = SamplingParams(n=6, temperature=0.8, top_p=0.95, max_new_tokens=12, seed=7)
    reqs = requests_for(problems, TIDS[:3], 6)
    a = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4), reqs, params)
    b = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=18), reqs, params)
    assert len(a) == 18 and {k: c.text for k, c in a.items()} == {k: c.text for k, c in b.items()}
    texts = {c.text for c in a.values()}
    assert len(texts) > 3  # really sampling
    other = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer), reqs,
                    SamplingParams(n=6, temperature=0.8, top_p=0.95, max_new_tokens=12, seed=8))
    assert {k: c.text for k, c in other.items()} != {k: c.text for k, c in a.items()}


def test_stop_rule_cuts_as_tokens_arrive(problems, tiny_model, tokenizer):
    # a stop rule that fires at the first newline: every completion is cut there, before the length limit
    stop = lambda text: text.find("\n") if "\n" in text else None  # noqa: E731
    reqs = [GenerationRequest(("Python/0", ""), problems["Python/0"].prompt, tuple(range(8)), stop)]
    out = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer),
                  reqs, SamplingParams(n=8, temperature=1.0, top_p=1.0, max_new_tokens=200))
    for c in out.values():
        assert "\n" not in c.text
        assert c.finish_reason in ("stop", "eos", "length")
        if c.finish_reason == "stop":
            assert c.completion_tokens < 200


class CrashAfter:
    """Wraps a backend and dies after k completions (a simulated crash)."""

    def __init__(self, backend, k):
        self.backend, self.k = backend, k

    def generate(self, requests, params, on_completion):
        count = [0]

        def wrapped(c):
            if count[0] == self.k:
                raise KeyboardInterrupt
            count[0] += 1
            on_completion(c)
        self.backend.generate(requests, params, wrapped)


def test_resume_after_crash_no_duplicate_no_missing(problems, tiny_model, tokenizer, tmp_path):
    items = generation_items(problems, ["python", "go"], limit=2)
    params = SamplingParams(n=5, temperature=0.8, max_new_tokens=10, seed=3)
    fast = TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4)
    crashed = tmp_path / "crashed" / SAMPLES_FILE
    with pytest.raises(KeyboardInterrupt):
        run_generation(items, CrashAfter(fast, 7), params, crashed, show_progress=False)
    assert len(crashed.read_text().splitlines()) == 7
    assert run_generation(items, fast, params, crashed, show_progress=False) == 20 - 7
    clean = tmp_path / "clean" / SAMPLES_FILE
    run_generation(items, fast, params, clean, show_progress=False)
    rows = [json.loads(l) for l in crashed.read_text().splitlines()]
    keys = [(r["task_id"], r["sample_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 20
    ref = {(r["task_id"], r["sample_index"]): r for r in map(json.loads, clean.read_text().splitlines())}
    for r in rows:  # the resumed run produced exactly what an uninterrupted run produces
        assert r["raw_generation"] == ref[(r["task_id"], r["sample_index"])]["raw_generation"]
        assert r["generation"] == LANGUAGES[r["task_id"].startswith("Go") and "go" or "python"].clean(r["raw_generation"])
    assert run_generation(items, fast, params, crashed, show_progress=False) == 0


@pytest.mark.docker
def test_tiny_model_full_pipeline_generation_and_translation(problems, tiny_model, tokenizer, tmp_path,
                                                             docker_client):
    from humaneval_x.evaluate import evaluate_model
    fast = TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer)
    params = SamplingParams(n=2, temperature=0.8, max_new_tokens=16)
    items = generation_items(problems, ["python", "cpp"], limit=2)
    summary = evaluate_model(items, problems, tmp_path / "gen", fast, params, identity={"t": 1},
                             show_progress=False, log=lambda *a: None)
    assert summary["overall"]["samples"] == 8
    assert summary["harness_errors"] == 0
    assert set(summary["languages"]) == {"python", "cpp"}
    titems = translation_items(problems, [("python", "go"), ("java", "js")], limit=2)
    tsum = evaluate_model(titems, problems, tmp_path / "trans", fast, params, identity={"t": 2},
                          show_progress=False, log=lambda *a: None)
    assert set(tsum["translation_pairs"]) == {"python-go", "java-js"}
    assert tsum["translation_matrix"]["pass@1"]["python"]["go"] is not None
    rows = [json.loads(l) for l in (tmp_path / "trans" / "results.jsonl").read_text().splitlines()]
    assert {(r["source_language"], r["language"]) for r in rows} == {("python", "go"), ("java", "js")}


@pytest.mark.docker
@pytest.mark.slow
def test_smollm2_default_model_end_to_end_cli(tmp_path, data_dir, docker_client):
    import subprocess
    import sys
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "humaneval_x.cli", "evaluate-generation", "--languages", "python,js",
           "--limit", "2", "--n", "2", "--max-new-tokens", "48", "--data-dir", data_dir, "--output-dir", str(out),
           "--progress=False"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(l) for l in (out / SAMPLES_FILE).read_text().splitlines()]
    assert len(rows) == 8
    assert all(set(r) >= {"task_id", "generation", "raw_generation", "finish_reason"} for r in rows)
    assert any(r["raw_generation"].strip() for r in rows)  # a real model writes something
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["samples"] == 8 and summary["generation"]["backend"] == "transformers"


def test_backend_registry():
    assert get_backend("transformers").name == "transformers"
    assert get_backend("transformers-plain").name == "transformers-plain"
    with pytest.raises(ValueError):
        get_backend("nope")


def test_chat_prompt_starts_the_answer_with_the_code(tiny_model, tokenizer):
    from humaneval_x.generate import with_chat_fence
    backend = TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer)
    text = backend.chat_prompt("Complete the code.", "```python\ndef f(x):\n")
    assert text.endswith("```python\ndef f(x):\n") and "Complete the code." in text
    stop = with_chat_fence(LANGUAGES["python"].stop)
    assert stop("    return x\n```\nExplanation") == len("    return x")  # unindented line: the function ended
    assert stop("    return x\nprint(1)") == len("    return x")
    js_stop = with_chat_fence(LANGUAGES["js"].stop)
    assert js_stop("  return x\n```\n}") == len("  return x\n")           # the fence comes first
    assert js_stop("  return x\n}\n```") == len("  return x\n}")           # the function closes first


@pytest.mark.docker
@pytest.mark.slow
def test_gate_two_real_runs_of_the_default_model(tmp_path, data_dir, docker_client):
    import subprocess
    import sys
    common = ["--n", "2", "--max-new-tokens", "32", "--data-dir", data_dir, "--progress=False"]
    base = tmp_path / "base"
    first = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-generation", "--languages", "python",
                            "--limit", "2", "--preset", "pass1", "--output-dir", str(base), *common],
                           capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    gate = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "gate", "--baseline", str(base / "summary.json"),
                           "--run", "--output-dir", str(tmp_path / "cand"), "--junit", str(tmp_path / "g.xml"),
                           *common], capture_output=True, text=True, timeout=900)
    assert gate.returncode == 0, gate.stdout[-2000:] + gate.stderr[-2000:]
    assert "verdict: PASS" in gate.stdout
    # same model, same seed, same settings: the very same samples
    a = [json.loads(l)["raw_generation"] for l in (base / SAMPLES_FILE).read_text().splitlines()]
    b = [json.loads(l)["raw_generation"] for l in (tmp_path / "cand" / SAMPLES_FILE).read_text().splitlines()]
    assert sorted(a) == sorted(b) and len(a) == 4
    assert (tmp_path / "cand" / "report.html").exists()
