"""Generation without a GPU: a tiny random model (built here) and the real SmolLM2 default model."""
import json

import pytest

torch = pytest.importorskip("torch")

from humaneval_x.generate import SAMPLES_FILE, run_generation
from humaneval_x.generation.backend import GenerationRequest, SamplingParams
from humaneval_x.generation.factory import get_backend
from humaneval_x.generation.plain_backend import PlainGenerateBackend
from humaneval_x.generation.transformers_backend import TransformersBackend, plan_waves
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


@pytest.mark.slow  # real model generation on the CPU: tens of seconds
def test_greedy_matches_plain_generate(problems, tiny_model, tokenizer):
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=20)
    reqs = requests_for(problems, TIDS, 1)
    fast = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=1), reqs, params)
    plain = collect(PlainGenerateBackend(model_obj=tiny_model, tokenizer=tokenizer), reqs, params)
    assert fast.keys() == plain.keys() and len(fast) == len(TIDS)
    for k in fast:
        assert fast[k].text == plain[k].text, k
        assert fast[k].finish_reason == plain[k].finish_reason


def test_waves_are_planned_from_the_full_request_set():
    lens = [30, 12, 30, 7, 12]
    full = [tuple(range(6))] * len(lens)
    waves = plan_waves(lens, full, batch_size=4, max_prompts_per_wave=3)
    rows = [row for w in waves for row in w]
    assert sorted(rows) == sorted((r, s) for r in range(5) for s in range(6))  # each sample exactly once
    assert all(len(w) <= 4 and len({r for r, _ in w}) <= 3 for w in waves)
    assert [lens[r] for r, _ in rows] == sorted(lens[r] for r, _ in rows)  # grouped by prompt length
    # only the batch settings and the full set matter, not which samples are already done
    assert plan_waves(lens, full, 4, 3) == waves
    small = plan_waves([5, 5, 5], [(0,)] * 3, batch_size=16, max_prompts_per_wave=2)
    assert small == [[(0, 0), (1, 0)], [(2, 0)]]


def spy_seeds(monkeypatch):
    """Records every (key, sample index) -> seed the fast backend draws its random stream from."""
    import humaneval_x.generation.transformers_backend as tb
    seen = {}

    def recording(seed, key, s):
        seen[(key, s)] = tb.__dict__["_real_sample_seed"](seed, key, s)
        return seen[(key, s)]
    monkeypatch.setitem(tb.__dict__, "_real_sample_seed", tb.sample_seed)
    monkeypatch.setattr(tb, "sample_seed", recording)
    return seen


@pytest.mark.slow  # real model generation on the CPU: tens of seconds
def test_same_batching_same_samples_other_batching_same_seeds(problems, tiny_model, tokenizer, monkeypatch):
    # What is promised: the same request set and batch settings give the very same samples (same batch
    # shapes by construction); other batch settings use the same per-sample seeds, but the logits of a
    # row may differ in their last bits with the batch shape, so their texts are NOT compared.
    params = SamplingParams(n=6, temperature=0.8, top_p=0.95, max_new_tokens=12, seed=7)
    reqs = requests_for(problems, TIDS[:3], 6)
    seeds = spy_seeds(monkeypatch)
    a = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4), reqs, params)
    seeds_a = dict(seeds)
    seeds.clear()
    again = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4), reqs, params)
    assert len(a) == 18 and {k: c.text for k, c in a.items()} == {k: c.text for k, c in again.items()}
    assert len({c.text for c in a.values()}) > 3  # really sampling
    seeds.clear()
    b = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=18), reqs, params)
    assert b.keys() == a.keys() and seeds == seeds_a and len(set(seeds_a.values())) == 18
    other = collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4), reqs,
                    SamplingParams(n=6, temperature=0.8, top_p=0.95, max_new_tokens=12, seed=8))
    assert {k: c.text for k, c in other.items()} != {k: c.text for k, c in a.items()}


def test_generation_raises_no_deprecation_warning(problems, tiny_model, tokenizer):
    import logging
    import warnings

    class Catch(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    def deprecations(fn):
        handler, logger = Catch(), logging.getLogger("transformers")
        logging.Logger.warning_once.cache_clear()  # transformers warns once per process otherwise
        logger.addHandler(handler)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fn()
        finally:
            logger.removeHandler(handler)
        return [str(w.message) for w in caught if issubclass(w.category, (FutureWarning, DeprecationWarning))] + \
            [m for m in handler.messages if "deprecat" in m.lower()]

    def old_api():  # the control: the deprecated way is caught by this check
        out = tiny_model(input_ids=torch.tensor([[1, 2, 3]]), use_cache=True)
        tiny_model(input_ids=torch.tensor([[4]]), past_key_values=out.cache, use_cache=True)
    assert deprecations(old_api)
    params = SamplingParams(n=3, temperature=0.8, max_new_tokens=8)
    reqs = requests_for(problems, TIDS[:2], 3)
    assert deprecations(lambda: collect(TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer), reqs,
                                        params)) == []


@pytest.mark.slow  # real model generation on the CPU: tens of seconds
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


@pytest.mark.slow  # real model generation on the CPU: tens of seconds
def test_resume_after_crash_no_duplicate_no_missing(problems, tiny_model, tokenizer, tmp_path, monkeypatch):
    items = generation_items(problems, ["python", "go"], limit=2)
    params = SamplingParams(n=5, temperature=0.8, max_new_tokens=10, seed=3)
    fast = TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer, batch_size=4)
    waves_run = []
    real_run_wave = fast._run_wave
    monkeypatch.setattr(fast, "_run_wave", lambda wave, *a: (waves_run.append(list(wave)), real_run_wave(wave, *a)))
    seeds = spy_seeds(monkeypatch)
    crashed = tmp_path / "crashed" / SAMPLES_FILE
    with pytest.raises(KeyboardInterrupt):  # dies in the middle of its second wave
        run_generation(items, CrashAfter(fast, 6), params, crashed, show_progress=False)
    assert len(crashed.read_text().splitlines()) == 6
    first = [json.loads(l) for l in crashed.read_text().splitlines()]
    waves_before, seeds_crashed = len(waves_run), dict(seeds)
    assert run_generation(items, fast, params, crashed, show_progress=False) == 20 - 6
    resumed_waves = waves_run[waves_before:]
    clean = tmp_path / "clean" / SAMPLES_FILE
    seeds.clear()
    del waves_run[:]
    run_generation(items, fast, params, clean, show_progress=False)
    full_waves = list(waves_run)
    assert len(full_waves) == 5 and all(len(w) == 4 for w in full_waves)
    # the resume re-formed the very waves of the uninterrupted run that still missed a sample
    done = {(r["task_id"], r["sample_index"]) for r in first}
    keys = [(items[r].task_id, s) for w in full_waves for r, s in w]
    assert resumed_waves == [w for w in full_waves if any((items[r].task_id, s) not in done for r, s in w)]
    assert len(resumed_waves) < len(full_waves)
    rows = [json.loads(l) for l in crashed.read_text().splitlines()]
    got = [(r["task_id"], r["sample_index"]) for r in rows]
    assert len(got) == len(set(got)) == 20 and set(got) == set(keys)  # no duplicate, none missing
    assert {k: v for k, v in seeds_crashed.items()} == {k: seeds[k] for k in seeds_crashed}  # same seeds
    ref = {(r["task_id"], r["sample_index"]): r for r in map(json.loads, clean.read_text().splitlines())}
    for r in rows:  # same waves, same batch shapes: exactly what the uninterrupted run produced
        assert r["raw_generation"] == ref[(r["task_id"], r["sample_index"])]["raw_generation"]
        assert r["generation"] == LANGUAGES[r["task_id"].startswith("Go") and "go" or "python"].clean(r["raw_generation"])
    assert run_generation(items, fast, params, crashed, show_progress=False) == 0


def test_chat_auto_follows_the_tokenizer(tiny_model, tokenizer):
    import copy

    from humaneval_x.errors import HarnessError
    from humaneval_x.generate import resolve_chat
    with_template = TransformersBackend(model_obj=tiny_model, tokenizer=tokenizer)
    assert tokenizer.chat_template  # SmolLM2-Instruct's tokenizer has one
    bare_tok = copy.deepcopy(tokenizer)
    bare_tok.chat_template = None
    bare = TransformersBackend(model_obj=tiny_model, tokenizer=bare_tok)
    assert resolve_chat("auto", with_template) is True and resolve_chat("auto", bare) is False
    for value, want in (("true", True), ("false", False), (True, True), (False, False), ("False", False)):
        assert resolve_chat(value, bare) is want
    with pytest.raises(HarnessError, match="auto, true or false"):
        resolve_chat("sometimes", bare)
    with pytest.raises(HarnessError, match="no chat template"):
        bare.chat_prompt("Complete the code.", "```python\n")
    plain = PlainGenerateBackend(model_obj=tiny_model, tokenizer=tokenizer)
    assert plain.has_chat_template()
    assert plain.chat_prompt("Do it.", "```go\n") == with_template.chat_prompt("Do it.", "```go\n")


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
    # --chat auto (the default) resolved for an instruct model: recorded as what was done
    assert summary["settings"]["chat"] is True and json.loads((out / "run.json").read_text())["chat"] is True


def test_backend_registry():
    assert get_backend("transformers").name == "transformers"
    assert get_backend("transformers-plain").name == "transformers-plain"
    from humaneval_x.errors import HarnessError
    with pytest.raises((ValueError, HarnessError)):
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


@pytest.mark.slow  # loads the default model (GGUF conversion on the CPU): tens of seconds
def test_loading_draws_no_bars_into_a_log():
    """Loading the default model with stderr going to a file (not a terminal) writes no progress bars:
    the GGUF conversion's own tqdm bar ignores transformers' switch and used to fill logs."""
    import subprocess
    import sys
    code = ("from humaneval_x.generation.loading import load_model_and_tokenizer\n"
            "from transformers.utils import logging\n"
            "load_model_and_tokenizer(None)\n"
            "assert logging.is_progress_bar_enabled()  # switched back for whatever comes next\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Converting and de-quantizing" not in res.stderr and "it/s]" not in res.stderr, res.stderr[-2000:]
