"""The judge service against a real server (``humaneval-x serve`` on 127.0.0.1, started here) with real
sandboxes: verdicts and digests as evaluate-samples gives them, auth, a full queue, idempotent retries, a
worker killed mid-request, jobs (poll, stream, cancel), deadlines, arbitrary programs, graceful shutdown."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from humaneval_x.serve.client import JudgeClient, JudgeError  # noqa: E402
from humaneval_x.serve.reward import make_reward_fn, reward_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, *args, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(f"/tmp/hx-test-serve-{self.port}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "humaneval_x.cli", "serve", "--port", str(self.port), "--data-dir", data_dir,
             "--nocache", *args], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if json.loads(r.read())["status"] == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"server did not become ready: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-3000:]

    def workers(self, language=None):
        """This server's worker containers (their owner label names its pid)."""
        import docker
        client = docker.from_env()
        host = socket.gethostname()
        out = []
        for c in client.containers.list(filters={"label": "org.humaneval-x.worker"}):
            owner = c.labels.get("org.humaneval-x.owner", "")
            if owner.startswith(f"{host}:{self.proc.pid}:") and (language is None or
                                                                 c.labels["org.humaneval-x.worker"] == language):
                out.append(c)
        return out

    def stop(self, sig=signal.SIGTERM, timeout=90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def post(url, path, body, token=None, timeout=300):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read() or b"null")


def slow(problems, task_id, seconds, tag):
    """The canonical solution after a sleep of ``seconds`` at each call (Python/0's test calls it 7 times,
    within its 13 s wall limit up to 1.5 s); ``tag`` makes each program distinct."""
    return {"task_id": task_id,
            "generation": f"    import time; time.sleep({seconds})  # {tag}\n" + problems[task_id].canonical_solution}


@pytest.fixture(scope="module")
def server(data_dir, docker_client):
    s = Server(data_dir, "--workers", "2", "--languages", "python,js")
    yield s
    s.stop()


def assert_as_the_cli(results, samples, data_dir, tmp_path):
    """Each record has the status, digest and cleaned code evaluate-samples gives the same sample."""
    from humaneval_x.evaluate import evaluate_samples
    from humaneval_x.serve.engine import DEFAULT_VARIANT
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    evaluate_samples(path, tmp_path / "out", data_dir, DEFAULT_VARIANT, cache=False, show_progress=False,
                     log=lambda *a: None)
    cli = {(r["task_id"], r.get("source_language"), r["sample_index"]): r
           for r in map(json.loads, (tmp_path / "out" / "results.jsonl").read_text().splitlines())}
    for r in results:
        c = cli[(r["task_id"], r.get("source_language"), r["sample_index"])]
        assert (r["status"], r["digest"], r["cleaned"]) == (c["status"], c["digest"], c["cleaned"]), r["task_id"]


@pytest.mark.docker
def test_verdicts_and_digests_are_the_clis(server, problems, data_dir, tmp_path):
    samples = []
    for t in ("Python/0", "Python/2", "CPP/0", "Java/1", "JavaScript/3", "Go/4"):
        samples.append({"task_id": t, "generation": problems[t].canonical_solution})
    samples += [
        {"task_id": "Python/0", "completion": "    return True\n"},                       # failed
        {"task_id": "Python/2", "completion": "    return number % 1.0 +\n"},             # SyntaxError: runtime
        {"task_id": "CPP/0", "generation": "    return undefined_name;\n}\n"},             # compile error
        {"task_id": "JavaScript/3", "generation": "  throw new Error('x');\n}\n"},         # runtime error
        {"task_id": "Python/2", "completion": "    while True:\n        pass\n"},            # timeout
        {"task_id": "Go/4", "source_language": "python",                                     # translation
         "generation": problems["Go/4"].canonical_solution},
    ]
    results = JudgeClient(server.url, batch_size=5).judge(samples)
    assert len(results) == len(samples)
    assert [(r["task_id"], r.get("source_language")) for r in results] == \
           [(s["task_id"], s.get("source_language")) for s in samples]
    assert_as_the_cli(results, samples, data_dir, tmp_path)
    statuses = [r["status"] for r in results]
    assert statuses[:6] == ["passed"] * 6
    assert statuses[6:] == ["failed", "runtime_error", "compile_error", "runtime_error", "timeout", "passed"]


@pytest.mark.docker
def test_retry_with_the_same_request_id_runs_nothing_twice(server, problems):
    samples = [slow(problems, "Python/0", 0.3, f"retry {i}") for i in range(3)]
    body = {"samples": samples, "request_id": "retry-test-1", "compact": True}
    before = JudgeClient(server.url).metrics()["programs_enqueued"]
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(post(server.url, "/v1/judge", body)))
               for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join()
    again = post(server.url, "/v1/judge", body)
    answers.append(again)
    assert all(a[0] == 200 for a in answers), answers
    assert len({a[2]["job_id"] for a in answers}) == 1
    assert all(a[2]["results"] == answers[0][2]["results"] for a in answers)
    assert [r["status"] for r in answers[0][2]["results"]] == ["passed"] * 3
    metrics = JudgeClient(server.url).metrics()
    assert metrics["programs_enqueued"] - before == 3  # four requests, three programs, each queued once
    status, _, answer = post(server.url, "/v1/judge", {**body, "samples": samples[:1]})
    assert status == 409 and "another request" in answer["error"]


@pytest.mark.docker
def test_a_worker_killed_mid_request_is_replaced_and_its_programs_rerun(server, problems):
    samples = [slow(problems, "Python/0", 0.5, f"kill {i}") for i in range(6)]
    samples.append({"task_id": "Python/0", "completion": "    return True\n"})
    before = JudgeClient(server.url).metrics()["worker_replacements"]
    out = {}
    t = threading.Thread(target=lambda: out.update(a=post(server.url, "/v1/judge", {"samples": samples})))
    t.start()
    time.sleep(2.0)
    workers = server.workers("python")
    assert len(workers) == 2, "two python workers, both busy"
    workers[0].kill()
    t.join(300)
    status, _, answer = out["a"]
    assert status == 200, answer
    assert [r["status"] for r in answer["results"]] == ["passed"] * 6 + ["failed"]
    metrics = JudgeClient(server.url).metrics()
    assert metrics["worker_replacements"] - before >= 1
    assert metrics["harness_errors"] == 0
    assert len(server.workers("python")) == 2  # the reserve is whole again


@pytest.mark.docker
def test_jobs_poll_stream_fetch_and_cancel(server, problems):
    client = JudgeClient(server.url)
    samples = [{"task_id": f"Python/{i}", "generation": problems[f"Python/{i}"].canonical_solution} for i in range(6)]
    job = client.submit_job(samples, compact=True)
    assert job["state"] == "running" and job["total"] == 6
    lines = list(client.stream(job["job_id"]))
    assert lines[-1]["end"] == "done" and lines[-1]["done"] == 6
    assert sorted(line["index"] for line in lines[:-1]) == list(range(6))
    final = client.job_results(job["job_id"])
    assert [r["status"] for r in final["results"]] == ["passed"] * 6
    assert client.job(job["job_id"])["state"] == "done"
    # cancel: what has not started is dropped, the job says so
    job = client.submit_job([slow(problems, "Python/1", 1.0, f"cancel {i}") for i in range(8)])
    time.sleep(0.5)
    cancelled = client.cancel(job["job_id"])
    assert cancelled["state"] == "cancelled"
    time.sleep(3)
    assert client.job(job["job_id"])["done"] < 8
    with pytest.raises(JudgeError) as err:
        client.job("no-such-job")
    assert err.value.status == 404


@pytest.mark.docker
def test_deadline_then_retry_runs_only_the_rest(server, problems):
    samples = [slow(problems, "Python/3", 2.0, f"deadline {i}") for i in range(4)]
    body = {"samples": samples, "request_id": "deadline-test-1", "deadline_s": 1.5, "compact": True}
    status, headers, answer = post(server.url, "/v1/judge", body)
    assert status == 504 and answer["state"] == "expired" and answer["done"] < 4
    done_first = answer["done"]
    before = JudgeClient(server.url).metrics()["programs_enqueued"]
    status, _, answer = post(server.url, "/v1/judge", {**body, "deadline_s": 120})
    assert status == 200 and [r["status"] for r in answer["results"]] == ["passed"] * 4
    requeued = JudgeClient(server.url).metrics()["programs_enqueued"] - before
    assert requeued <= 4 - done_first


@pytest.mark.docker
def test_bad_requests_are_one_line_400s(server):
    for body, words in (({"samples": []}, "non-empty"),
                        ({"samples": [{"task_id": "Cobol/0", "generation": "x"}]}, "HumanEval-X language"),
                        ({"samples": [{"task_id": "Python/0"}]}, "generation"),
                        ({"samples": [{"task_id": "Python/0", "generation": "x"}], "settings": {"clean": "no"}}, "clean"),
                        ({"samples": [{"task_id": "Python/0", "generation": "x"}], "settings": {"tim_limit": 3}},
                         "unknown setting")):
        status, _, answer = post(server.url, "/v1/judge", body)
        assert status == 400 and words in answer["error"], (body, answer)


@pytest.mark.docker
def test_arbitrary_programs_under_the_same_boundary(server):
    client = JudgeClient(server.url)
    r = client.run("python", "import sys, os\nprint(sys.stdin.read().upper(), os.getuid() >= 20000)", stdin="abc")
    assert r["status"] == "finished" and r["exit_code"] == 0 and r["stdout"] == "ABC True\n"
    r = client.run("js", "process.exit(3)")
    assert r["status"] == "finished" and r["exit_code"] == 3
    r = client.run("python", "while True: pass", cpu_limit=1)
    assert r["status"] == "timeout" and 1 <= r["user_s"] < 3 and r["cpu_s"] >= r["user_s"]  # stopped at its limit
    r = client.run("python", "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)")
    assert r["status"] == "finished" and r["exit_code"] == 1 and "Error" in r["stderr"]  # no network
    status, _, fusion = post(server.url, "/run_code", {"code": "print(input())", "language": "python", "stdin": "hi"})
    assert status == 200 and fusion["status"] == "Success" and fusion["run_result"]["stdout"] == "hi\n"
    status, _, fusion = post(server.url, "/run_code", {"code": "print(", "language": "python"})
    assert fusion["status"] == "Failed" and fusion["run_result"]["return_code"] == 1
    status, _, piston = post(server.url, "/api/v2/execute", {"language": "javascript", "version": "*",
                                                              "files": [{"content": "console.log(6*7)"}]})
    assert status == 200 and piston["run"]["stdout"] == "42\n" and piston["run"]["code"] == 0


@pytest.mark.docker
def test_reward_function(server, problems):
    reward = make_reward_fn(JudgeClient(server.url))
    assert reward("Python/0", problems["Python/0"].canonical_solution) == 1.0
    assert reward("Python/0", "    return True\n") == 0.0
    assert reward_of({"status": "harness_error"}) is None
    assert reward_of({"status": "timeout"}) == 0.0


@pytest.mark.docker
def test_token_and_a_full_queue(data_dir, docker_client, problems):
    s = Server(data_dir, "--workers", "1", "--languages", "python", "--max-queue", "3", "--token-env", "HX_TEST_TOKEN",
               env={"HX_TEST_TOKEN": TOKEN})
    try:
        one = {"samples": [{"task_id": "Python/0", "generation": problems["Python/0"].canonical_solution}]}
        assert post(s.url, "/v1/judge", one)[0] == 401
        assert post(s.url, "/v1/judge", one, token="wrong-token-0123456789")[0] == 401
        status, _, answer = post(s.url, "/v1/judge", one, token=TOKEN)
        assert status == 200 and answer["results"][0]["status"] == "passed"
        with urllib.request.urlopen(s.url + "/health") as r:  # health stays open (load balancers)
            assert r.status == 200
        # the queue holds 3 programs: 3 slow ones fill it, the next request is 429 with Retry-After
        client = JudgeClient(s.url, token=TOKEN)
        job = client.submit_job([slow(problems, "Python/0", 0.4, f"full {i}") for i in range(3)])
        time.sleep(0.3)  # the slot has taken some; keep the queue full
        filler = client.submit_job([slow(problems, "Python/0", 0.4, f"fill {i}") for i in range(3)])
        status, headers, answer = post(s.url, "/v1/judge", one, token=TOKEN)
        assert status in (429, 200)
        if status == 200:  # the slot took from the queue between the two calls: fill it again
            client.submit_job([slow(problems, "Python/0", 0.4, f"refill {i}") for i in range(3)])
            status, headers, answer = post(s.url, "/v1/judge", one, token=TOKEN)
        assert status == 429 and int(headers["Retry-After"]) >= 1 and "queue" in answer["error"]
        status, _, answer = post(s.url, "/v1/judge", {"samples": one["samples"] * 4}, token=TOKEN)
        assert status in (400, 413)  # four of the same sample: a duplicate (400) or more than the queue (413)
        four = {"samples": [{"task_id": f"Python/{i}", "generation": "x"} for i in range(4)]}
        assert post(s.url, "/v1/judge", four, token=TOKEN)[0] == 413
        # the client waits and retries: it gets its answer once there is room
        client.max_retries = 30
        assert client.judge(one["samples"])[0]["status"] == "passed"
        assert [r["status"] for r in client.job_results(job["job_id"])["results"]] == ["passed"] * 3
        assert [r["status"] for r in client.job_results(filler["job_id"])["results"]] == ["passed"] * 3
        assert client.metrics()["rejected"].get("queue_full", 0) >= 1
    finally:
        s.stop()


@pytest.mark.docker
def test_rust_is_judged_as_the_others(server, data_dir, tmp_path):
    """Rust samples (a language outside the paper's five, not among the server's --languages: its sandboxes
    start on use) get the CLI's verdicts and digests; plain Rust programs run too."""
    from humaneval_x.dataset import load_problems
    rust = load_problems(["rust"], data_dir=data_dir)
    samples = [{"task_id": "Rust/0", "generation": rust["Rust/0"].canonical_solution},
               {"task_id": "Rust/145", "generation": rust["Rust/145"].canonical_solution},  # a helper after it: kept
               {"task_id": "Rust/0", "completion": "    return false;\n}\n"},
               {"task_id": "Rust/0", "completion": "    return numbers;\n}\n"},
               {"task_id": "Rust/2", "source_language": "python", "generation": rust["Rust/2"].canonical_solution}]
    results = JudgeClient(server.url, batch_size=5).judge(samples)
    assert [r["status"] for r in results] == ["passed", "passed", "failed", "compile_error", "passed"], results
    assert_as_the_cli(results, samples, data_dir, tmp_path)
    r = JudgeClient(server.url).run("rust", "fn main() { let mut s = String::new();\n"
                                            "    std::io::stdin().read_line(&mut s).unwrap();\n"
                                            "    println!(\"{} {}\", s.trim(), 6 * 7); }\n", stdin="rs")
    assert r["status"] == "finished" and r["exit_code"] == 0 and r["stdout"] == "rs 42\n", r


def _asgi_post(app, path: str, body: dict):
    """(status, JSON body) of one POST to the ASGI app, in this process (no server, no lifespan)."""
    import asyncio
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80)}
    inbox = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    out = []

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        out.append(message)
    asyncio.run(app(scope, receive, send))
    return out[0]["status"], json.loads(b"".join(m.get("body", b"") for m in out[1:]))


def test_a_language_whose_image_is_not_built_is_a_clear_501(data_dir):
    """Rust's image is opt-in: without it a Rust sample or program is refused at once, one line naming the
    command that builds it (501: not a wrong request, and not retried); nothing is queued."""
    import docker
    from humaneval_x.sandbox.images import image_missing
    from humaneval_x.serve.app import create_app
    from humaneval_x.serve.engine import Engine, NotBuilt

    class NoImages:
        class images:
            @staticmethod
            def get(tag):
                raise docker.errors.ImageNotFound(tag)
    started = []
    engine = Engine(workers=1, data_dir=data_dir, cache=False, languages=["python"],
                    sandbox_factory=lambda lang: started.append(lang),
                    image_check=lambda lang: image_missing(lang, NoImages()) if lang == "rust" else None, log=lambda m: None)
    engine.start(warm=False)
    try:
        with pytest.raises(NotBuilt, match=r"rust sandbox image .* is not built .*humaneval-x sandbox build --languages rust"):
            engine.submit_judge([{"task_id": "Rust/0", "generation": "    true\n}\n"}])
        app = create_app(engine, start_engine=False)
        status, answer = _asgi_post(app, "/v1/judge", {"samples": [{"task_id": "Python/1", "generation": "x"},
                                                                   {"task_id": "Rust/0", "generation": "x"}]})
        assert status == 501 and "sandbox build --languages rust" in answer["error"], answer
        status, answer = _asgi_post(app, "/v1/run", {"language": "rs", "code": "fn main() {}"})
        assert status == 501 and "rust sandbox image" in answer["error"], answer
        status, answer = _asgi_post(app, "/v1/judge", {"samples": [{"task_id": "Cobol/0", "generation": "x"}]})
        assert status == 400, answer  # a wrong request stays a 400
        assert engine.queue_depth == 0 and not started and engine.metrics()["rejected"]["not_built"] == 3
    finally:
        engine.drain(timeout=1)


def test_another_address_needs_a_token():
    """Refused before anything starts: nothing is bound."""
    for args, env in ((["--host", "0.0.0.0"], {}), (["--host", "10.1.2.3", "--token-env", "HX_NOPE"], {}),
                      (["--token-env", "HX_SHORT"], {"HX_SHORT": "short"})):
        p = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "serve", *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        assert p.returncode == 2, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and ("token" in p.stderr), p.stderr


@pytest.mark.docker
def test_graceful_shutdown_finishes_what_is_in_flight(data_dir, docker_client, problems):
    s = Server(data_dir, "--workers", "1", "--languages", "python")
    out = {}
    samples = [slow(problems, "Python/0", 0.3, f"drain {i}") for i in range(3)]
    t = threading.Thread(target=lambda: out.update(a=post(s.url, "/v1/judge", {"samples": samples})))
    t.start()
    time.sleep(1.0)
    assert s.workers("python")
    code = s.stop(signal.SIGTERM)
    t.join(60)
    status, _, answer = out["a"]
    assert status == 200 and [r["status"] for r in answer["results"]] == ["passed"] * 3
    assert code == 0, s.output()
    assert s.workers() == []  # every worker removed
