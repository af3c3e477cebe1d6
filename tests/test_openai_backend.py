"""The openai backend: against a REAL `transformers serve` (SmolLM2 saved as a transformers folder), and
against a small server of our own that answers 429/500/400/401 and fewer choices on purpose."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from humaneval_x.cleaning import cpp_stop, python_stop
from humaneval_x.errors import HarnessError
from humaneval_x.generation.backend import GenerationRequest, SamplingParams, sample_seed
from humaneval_x.generation.factory import get_backend
from humaneval_x.generation.openai_backend import OpenAIBackend, continuation_from_answer
from humaneval_x.languages import LANGUAGES

PY_PROMPT = 'def add(a, b):\n    """Add two numbers."""\n'


# ------------------------------------------------------------------ a server of our own
class FakeServer:
    """OpenAI-shaped answers on 127.0.0.1; ``script`` (a list) says what the next requests get:
    ("status", code, headers, body) or "ok"; when it runs out, "ok". Records every request body
    and the most requests it had in flight at once."""

    def __init__(self, port=0, delay=0.0, max_choices=None, text="    return a + b\nprint(add(1, 2))\n",
                 key=None):
        self.script, self.bodies, self.delay, self.max_choices, self.text, self.key = [], [], delay, max_choices, \
            text, key
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        self.port = port
        self.httpd = None
        self.start()

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.bodies.append(body)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    step = fake.script.pop(0) if fake.script else "ok"
                self.counted = True
                try:
                    time.sleep(fake.delay)
                    if fake.key and self.headers.get("Authorization") != f"Bearer {fake.key}":
                        step = ("status", 401, {}, {"error": {"message": "Incorrect API key provided"}})
                    if step == "ok":
                        n = body.get("n", 1) if fake.max_choices is None else min(body.get("n", 1), fake.max_choices)
                        if "messages" in body:
                            choices = [{"index": i, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": fake.text}} for i in range(n)]
                        else:
                            choices = [{"index": i, "finish_reason": "stop", "text": fake.text} for i in range(n)]
                        self._send(200, {}, {"choices": choices,
                                             "usage": {"prompt_tokens": 7, "completion_tokens": 5 * n}})
                    else:
                        _, code, headers, payload = step
                        self._send(code, headers, payload)
                finally:
                    self._done()

            def _done(self):
                # a request stops counting before its reply goes out: once the client has the reply it may
                # send the next one, which must not find this one still counted (4 in flight of 3 allowed)
                if getattr(self, "counted", False):
                    self.counted = False
                    with fake.lock:
                        fake.in_flight -= 1

            def _send(self, code, headers, payload):
                self._done()
                data = json.dumps(payload).encode()
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.stop()


def backend_for(server, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("log", lambda msg: None)
    return OpenAIBackend(model="m", base_url=server.url, **kw)


def run(backend, reqs, params):
    out = []
    backend.generate(reqs, params, out.append)
    return out


def py_requests(count, n, task=0):
    return [GenerationRequest(key=(f"Python/{task + i}", ""), prompt=PY_PROMPT, sample_indices=tuple(range(n)),
                              stop=python_stop) for i in range(count)]


P = SamplingParams(n=2, temperature=0.8, top_p=0.95, max_new_tokens=32, seed=3)


def test_stop_rule_applied_server_stops_at_most_four_seeds_differ(fake):
    out = run(backend_for(fake, concurrency=2), py_requests(2, 2), P)
    assert sorted((c.key[0], c.sample_index) for c in out) == [("Python/0", 0), ("Python/0", 1), ("Python/1", 0),
                                                                ("Python/1", 1)]
    # our rule cut at the unindented line the server sent on
    assert all(c.text == "    return a + b" and c.finish_reason == "stop" for c in out)
    for body in fake.bodies:
        assert body["stop"] == list(LANGUAGES["python"].server_stops) and len(body["stop"]) <= 4
        assert body["max_tokens"] == 32 and body["temperature"] == 0.8 and body["top_p"] == 0.95
        assert "prompt" in body and "messages" not in body
    seeds = [b["seed"] for b in fake.bodies]
    assert len(set(seeds)) == len(seeds)
    assert seeds[0] in {sample_seed(3, (f"Python/{i}", ""), 0) & 0x7FFFFFFF for i in range(2)}
    # usage recorded: the request's completion tokens shared by its choices
    assert sum(c.completion_tokens for c in out) == sum(5 * b["n"] for b in fake.bodies)
    assert all(c.prompt_tokens == 7 for c in out)


def test_fewer_choices_are_asked_again_each_sample_once(fake):
    fake.max_choices = 1  # as `transformers serve` does
    backend = backend_for(fake, concurrency=1)
    out = run(backend, py_requests(1, 4), SamplingParams(n=4, max_new_tokens=8))
    assert sorted(c.sample_index for c in out) == [0, 1, 2, 3]
    assert [b["n"] for b in fake.bodies] == [4, 3, 2, 1]
    assert len({b["seed"] for b in fake.bodies}) == 4
    assert backend.describe()["server"]["reasks"] == 3


def test_server_rejecting_n_gets_one_sample_per_request(fake):
    fake.script = [("status", 400, {}, {"error": {"message": "n must be 1 for this model"}})]
    out = run(backend_for(fake, concurrency=1), py_requests(1, 3), SamplingParams(n=3, max_new_tokens=8))
    assert sorted(c.sample_index for c in out) == [0, 1, 2]
    assert [b["n"] for b in fake.bodies] == [3, 1, 1, 1]


def test_429_and_500_are_retried_honouring_retry_after(fake):
    fake.script = [("status", 429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}),
                   ("status", 500, {}, {"error": {"message": "boom"}}),
                   ("status", 503, {}, "unavailable")]
    backend = backend_for(fake, concurrency=1)
    t0 = time.monotonic()
    out = run(backend, py_requests(1, 1), SamplingParams(n=1, max_new_tokens=8))
    assert time.monotonic() - t0 >= 1.0  # Retry-After: 1 was waited out (the backoff alone is ~0.01 s)
    assert [c.sample_index for c in out] == [0] and len(fake.bodies) == 4
    assert backend.describe()["server"]["retries"] == 3


def test_retries_are_bounded(fake):
    fake.script = [("status", 503, {}, {"error": {"message": "down"}})] * 10
    with pytest.raises(HarnessError, match=r"no answer after 2 retries.*503"):
        run(backend_for(fake, concurrency=1, max_retries=2), py_requests(1, 1), SamplingParams(n=1))
    assert len(fake.bodies) == 3


def test_other_4xx_is_one_clear_error_and_delivered_samples_stay(fake):
    fake.script = ["ok", "ok", ("status", 400, {}, {"detail": "The model `m` does not exist."})]
    got = []
    with pytest.raises(HarnessError) as err:
        backend_for(fake, concurrency=1).generate(py_requests(5, 1), SamplingParams(n=1), got.append)
    assert "answered 400: The model `m` does not exist." in str(err.value) and "\n" not in str(err.value)
    assert len(got) == 2  # what came before the error was delivered (and is on disk in a run)
    assert len(fake.bodies) == 3  # nothing more was asked after the error


def test_wrong_key_is_refused_and_the_key_is_never_recorded(fake, monkeypatch):
    fake.key = "s3cret-key"
    monkeypatch.setenv("HX_TEST_KEY", "wrong")
    with pytest.raises(HarnessError, match=r"answered 401: Incorrect API key.*\$HX_TEST_KEY"):
        run(backend_for(fake, api_key_env="HX_TEST_KEY"), py_requests(1, 1), SamplingParams(n=1))
    monkeypatch.setenv("HX_TEST_KEY", "s3cret-key")
    backend = backend_for(fake, api_key_env="HX_TEST_KEY")
    assert len(run(backend, py_requests(1, 1), SamplingParams(n=1))) == 1
    assert "s3cret-key" not in json.dumps(backend.describe()) and backend.describe()["api_key_env"] == "HX_TEST_KEY"
    monkeypatch.delenv("HX_TEST_KEY")
    with pytest.raises(HarnessError, match="HX_TEST_KEY: no such environment variable"):
        backend_for(fake, api_key_env="HX_TEST_KEY")


def test_concurrency_is_a_bound_and_is_used(fake):
    fake.delay = 0.3
    t0 = time.monotonic()
    out = run(backend_for(fake, concurrency=3), py_requests(9, 1), SamplingParams(n=1))
    assert len(out) == 9 and fake.max_in_flight == 3
    assert time.monotonic() - t0 < 9 * 0.3  # really in parallel: about 3 rounds of 0.3 s


def test_a_run_survives_a_server_restart():
    server = FakeServer(delay=0.2)
    port = server.port
    backend = OpenAIBackend(model="m", base_url=server.url, concurrency=1, backoff=0.2, max_backoff=1.0,
                            max_retries=10, log=lambda m: None)
    got = []

    def restart():
        while len(server.bodies) < 2:
            time.sleep(0.02)
        server.stop()  # goes away mid-run ...
        time.sleep(1.5)
        server.start()  # ... and comes back on the same port
    t = threading.Thread(target=restart)
    t.start()
    try:
        backend.generate(py_requests(6, 1), SamplingParams(n=1), got.append)
    finally:
        t.join()
        server.stop()
    assert server.port == port
    assert sorted(c.key[0] for c in got) == [f"Python/{i}" for i in range(6)]
    assert backend.describe()["server"]["retries"] >= 1


def test_chat_sends_messages_and_turns_the_answer_into_a_continuation(fake):
    fake.text = "Here it is:\n```python\ndef add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n```\nDone."
    req = GenerationRequest(key=("Python/0", ""), prompt=PY_PROMPT, sample_indices=(0,), stop=python_stop,
                            messages=[{"role": "user", "content": "Complete the code"}])
    (c,) = run(backend_for(fake), [req], SamplingParams(n=1))
    assert fake.bodies[0]["messages"] == req.messages and "prompt" not in fake.bodies[0]
    assert "stop" not in fake.bodies[0]
    assert c.text == "    return a + b\n" and c.finish_reason == "stop" and c.answer == fake.text


@pytest.mark.parametrize("language,prompt,answer,expected", [
    ("python", PY_PROMPT, "```python\ndef add(a, b):\n    return a + b\n```", "    return a + b\n"),
    ("python", PY_PROMPT, "```python\n    return a + b\n```", "    return a + b\n"),  # the body alone
    ("cpp", "#include<vector>\nusing namespace std;\nint add(int a,int b){\n",
     "```cpp\n#include <vector>\nint add(int a, int b) {\n    return a + b;\n}\nint main(){}\n```",
     "    return a + b;\n}\nint main(){}\n"),
    ("js", "const add = (a, b) => {\n", "```javascript\nconst add = (a, b) => {\n  return a + b;\n};\n```",
     "  return a + b;\n};\n"),
    ("go", "import (\n\"fmt\"\n)\nfunc Add(a int, b int) int {\n",
     "```go\nfunc Add(a, b int) int {\n\treturn a + b\n}\n```", "\treturn a + b\n}\n"),
    ("java", "class Solution {\n    public int add(int a, int b) {\n",
     "```java\nclass Solution {\n    public int add(int a, int b) {\n        return a + b;\n    }\n}\n```",
     "        return a + b;\n    }\n}\n"),
])
def test_continuation_from_answer(language, prompt, answer, expected):
    assert continuation_from_answer(prompt, answer, language) == expected


def test_bad_backend_and_flags_are_one_line_exit_2(capsys):
    from humaneval_x.cli import main
    for argv, words in [(["evaluate-generation", "--backend", "nope"], "unknown --backend 'nope'"),
                        (["evaluate-generation", "--backend", "openai"], "needs --model"),
                        (["evaluate-translation", "--concurrency", "4"], "--concurrency applies to --backend openai")]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and words in err and len(err.splitlines()) == 1, err
    with pytest.raises(HarnessError, match="http"):
        get_backend("openai", model="m", base_url="localhost:8000")


# ------------------------------------------------------------------ a REAL server: transformers serve
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smollm2_folder() -> Path:
    """The default SmolLM2 GGUF as a transformers folder (cached: the conversion takes ~20 s).

    A GGUF-loaded model refuses save_pretrained: a model built from its config takes its weights."""
    from humaneval_x.generation.loading import default_model_path, split_model_path
    gguf = Path(default_model_path())
    st = gguf.stat()
    base = Path(os.environ.get("HUMANEVAL_X_CACHE_MODELS", Path.home() / ".cache" / "humaneval-x" / "test-models"))
    folder = base / f"{gguf.stem}-{st.st_size}-{int(st.st_mtime)}"
    if (folder / "config.json").exists():
        return folder
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    directory, name = split_model_path(str(gguf))
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(directory, gguf_file=name),
                                             dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.generation_config.do_sample = True  # else `transformers serve` ignores the temperature
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.rename(folder)
    return folder


@pytest.fixture(scope="module")
def served():
    exe = shutil.which("transformers")
    assert exe, "`transformers` CLI missing: pip install 'transformers[serving]'"
    folder = str(_smollm2_folder())
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    log = open(Path(folder).parent / f"serve-{port}.log", "w")
    proc = subprocess.Popen([exe, "serve", folder, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("transformers serve did not start: "
                                + Path(log.name).read_text()[-2000:])
                time.sleep(0.5)
        yield {"url": url + "/v1", "model": folder}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow  # a real `transformers serve` starts first
def test_real_server_completions_chat_and_reasks(served):
    backend = OpenAIBackend(model=served["model"], base_url=served["url"], concurrency=2, log=lambda m: None)
    raw = GenerationRequest(key=("Python/0", ""), prompt=PY_PROMPT, sample_indices=(0, 1), stop=python_stop)
    chat = GenerationRequest(key=("CPP/0", ""), prompt="int add(int a,int b){\n", sample_indices=(0,), stop=cpp_stop,
                             messages=[{"role": "user", "content": "Complete the C++ code.\n\n```cpp\n"
                                        "int add(int a,int b){\n```"}])
    out = run(backend, [raw, chat], SamplingParams(n=2, temperature=0.8, max_new_tokens=12, seed=1))
    got = sorted((c.key[0], c.sample_index) for c in out)
    assert got == [("CPP/0", 0), ("Python/0", 0), ("Python/0", 1)]
    stats = backend.describe()["server"]
    assert stats["prompt_tokens"] > 0 and 0 < stats["completion_tokens"] <= 12 * 3
    assert all(c.finish_reason in ("stop", "eos", "length") for c in out)
    (c,) = [c for c in out if c.key[0] == "CPP/0"]
    assert c.answer is not None and c.answer.strip()  # the model's own words, kept beside the code


@pytest.mark.slow  # a real `transformers serve` starts first
def test_real_server_wrong_model_name_is_one_clear_error(served):
    backend = OpenAIBackend(model="no-such-model", base_url=served["url"], log=lambda m: None)
    with pytest.raises(HarnessError, match="answered 400: Server is pinned to"):
        run(backend, py_requests(1, 1), SamplingParams(n=1, max_new_tokens=4))


@pytest.mark.docker
def test_evaluate_generation_end_to_end_and_resume(served, tmp_path, data_dir, docker_client, capsys, monkeypatch):
    from humaneval_x.cli import main
    monkeypatch.setenv("HX_E2E_KEY", "not-a-secret-but-never-stored")
    out = tmp_path / "run"
    argv = ["evaluate-generation", "--backend", "openai", "--base-url", served["url"], "--model", served["model"],
            "--api-key-env", "HX_E2E_KEY", "--concurrency", "2", "--languages", "python,js", "--limit", "1",
            "--n", "2", "--max-new-tokens", "24", "--data-dir", data_dir, "--output-dir", str(out),
            "--workers", "1", "--progress=False"]
    main(argv)
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert sorted((r["task_id"], r["sample_index"]) for r in rows) == [("JavaScript/0", 0), ("JavaScript/0", 1),
                                                                       ("Python/0", 0), ("Python/0", 1)]
    assert all(r["finish_reason"] in ("stop", "eos", "length") and r["prompt_tokens"] > 0 for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["samples"] == 4 and summary["generation"]["backend"] == "openai"
    assert summary["generation"]["generated_now"] == 4
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 4 and all(r["status"] != "harness_error" for r in results)
    for f in out.iterdir():
        if f.is_file():
            assert "never-stored" not in f.read_text(errors="replace"), f
    # killed after 3 samples: the rerun asks the server only for the missing one
    (out / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    capsys.readouterr()
    main(argv)
    logged = capsys.readouterr().out
    assert "3 samples on disk, 1 to generate" in logged
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generation"]["generated_now"] == 1 and summary["generation"]["server"]["requests"] == 1
    assert summary["overall"]["samples"] == 4
