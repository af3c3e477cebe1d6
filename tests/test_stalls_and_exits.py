"""Issue 29, items 4 and 5: no sample stalls a Go batch through its compiler's messages, and no worker
outlives its harness, however the harness ends.

The runner's parsing and watchdog are tested here on the host (runners/runner.py imported as a module:
standard library only); the rest with real Docker workers and real samples (marked ``docker``)."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("hx_runner_under_test", ROOT / "runners" / "runner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the runner's parsing of go's messages
def test_go_sections_are_read_in_linear_time_and_capped(runner):
    """go vet quotes arguments verbatim: a raw string of many lines is as many lines of messages. Reading
    them took time quadratic in their length (a batch of 3 sat 465 s); now linear, and a section keeps at
    most GO_SECTION_KEEP characters."""
    ns = "hxb0123456789abcdef"
    flood = "./p.go:5:8: redundant or: s == `\n" + ("x" * 60 + "\n") * 100_000 + "` || s == `x`\n"
    text = "# %s/hxp2\n%s# %s/hxp7\n./p.go:3:1: x declared and not used\n# other/pkg\nnot ours\n" % (ns, flood, ns)
    start = time.perf_counter()
    sections = runner._go_sections(text, ns)
    elapsed = time.perf_counter() - start
    assert set(sections) == {2, 7}
    assert len(sections[2]) == runner.GO_SECTION_KEEP and sections[2].startswith("./p.go:5:8: redundant or")
    assert sections[7] == "./p.go:3:1: x declared and not used\n"
    assert elapsed < 2.0, elapsed  # about 0.05 s here; the quadratic reading took minutes


def test_go_sections_ignore_headers_of_other_namespaces(runner):
    ns = "hxbfeedfacefeedface"
    text = "# hxb0000000000000000/hxp1\nforged\n# %s/hxp²\nforged\n# %s/hxp3\nreal\n" % (ns, ns)
    assert runner._go_sections(text, ns) == {3: "real\n"}


def test_capture_files_are_read_only_as_far_as_kept(runner):
    fd = os.memfd_create("t")
    try:
        os.write(fd, b"a" * 5000 + b"b" * 5000)
        text, data = runner._read_capped(fd, 100, keep=3000)
        assert data == b"a" * 3000
        assert text.startswith("a" * 50) and text.endswith("b" * 50) and "[9900 bytes cut]" in text
        text, data = runner._read_capped(fd, 100)
        assert len(data) == 10000
    finally:
        os.close(fd)


# ---------------------------------------------------------------- the runner's watchdog
class BlockingRunner:
    """Stands in for the runner: a request runs until released (a flood being read, a program at its limits)."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()

    def execute(self, req):
        self.started.set()
        self.release.wait(30)
        return {"id": req.get("id"), "status": "passed"}


def test_the_runner_notices_a_closed_connection_while_a_request_is_in_flight(runner):
    """The runner read its connection only between requests: a harness killed while one ran left its worker
    busy for as long as the request took (a Go worker at 97% CPU for more than 6 minutes). A watchdog thread
    now ends the container as soon as the connection closes, whatever the request is doing."""
    r, w = os.pipe()
    inp, host = os.fdopen(r, "r"), os.fdopen(w, "w")
    out = open(os.devnull, "w")
    fake, lost = BlockingRunner(), threading.Event()
    t = threading.Thread(target=runner.serve, args=(fake, inp, out), kwargs={"on_lost": lost.set}, daemon=True)
    t.start()
    host.write(json.dumps({"key": "00" * 32}) + "\n" + json.dumps({"id": "r1", "files": {}}) + "\n")
    host.flush()
    assert fake.started.wait(10)
    assert not lost.is_set()
    host.close()  # the harness is gone
    start = time.monotonic()
    assert lost.wait(5), "the closed connection went unnoticed while the request ran"
    assert time.monotonic() - start < 2
    fake.release.set()
    t.join(10)
    assert not t.is_alive()
    out.close()


def test_a_closed_connection_between_requests_just_ends_serving(runner):
    r, w = os.pipe()
    inp, host = os.fdopen(r, "r"), os.fdopen(w, "w")
    out = open(os.devnull, "w")
    lost = threading.Event()
    host.write(json.dumps({"key": "00" * 32}) + "\n")
    host.close()
    runner.serve(BlockingRunner(), inp, out, on_lost=lost.set)  # returns: main() then ends the container
    assert not lost.is_set()
    out.close()


# ---------------------------------------------------------------- the harness on SIGTERM and SIGHUP
CLEANUP_PROBE = """
import sys, time
sys.path.insert(0, %r)
from humaneval_x.shutdown import ends_like_ctrl_c

@ends_like_ctrl_c
def main():
    try:
        try:
            print("ready", flush=True)
            time.sleep(60)
        finally:
            print("cleaned up", flush=True)  # as SandboxPool.__exit__ removes its workers
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)

main()
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_sigterm_and_sighup_clean_up_as_ctrl_c_does(sig):
    proc = subprocess.Popen([sys.executable, "-c", CLEANUP_PROBE % str(ROOT)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=20)
    assert out.split() == ["cleaned", "up", "interrupted"]
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + sig)


# ---------------------------------------------------------------- with real workers
def _flooder(n_lines: int) -> str:
    """A Go/0 completion whose go vet messages quote a raw string of ``n_lines`` lines twice (a compile error
    on every path: vet's "redundant or")."""
    raw = "`" + ("x" * 60 + "\n") * n_lines + "`"
    return "    s := \"\"\n    if s == %s || s == %s {\n        return false\n    }\n    return false\n}\n" % (raw, raw)


@pytest.mark.docker
def test_a_vet_flood_does_not_stall_its_go_batch(problems, docker_client):
    """Issue 29, item 4: one member whose vet messages run to megabytes held its whole batch (27 s for this
    batch with 60,000 lines, 465 s in the issue's). The batch's build reads at most GO_OUTPUT_KEEP bytes of
    messages in linear time and has one program's compile limit in all; the flooder leaves the batch and is
    judged alone (compile_error, as on the naive path), its neighbours share the build and keep their verdicts."""
    from humaneval_x.assembly import assemble_go
    from humaneval_x.execute import make_request
    from humaneval_x.languages import get_language
    from humaneval_x.sandbox.docker_sandbox import DockerSandbox
    from humaneval_x.sandbox.images import image_tag
    go = get_language("go")
    programs = [("canonical-0", "Go/0", problems["Go/0"].canonical_solution, "passed"),
                ("flooder", "Go/0", _flooder(100_000), "compile_error"),
                ("canonical-1", "Go/1", problems["Go/1"].canonical_solution, "passed"),
                ("wrong", "Go/0", "    return false\n}\n", "failed")]
    members = []
    for i, (_, task, code, _) in enumerate(programs):
        p = problems[task]
        r = make_request(go, "m%d" % i, assemble_go(p, p.prompt, code))
        assert r["batch_info"], "every member is batch-eligible"
        members.append(r)
    box = DockerSandbox("go", image_tag("go"), client=docker_client)
    box.start()
    try:
        start = time.monotonic()
        out = box.execute({"id": "b", "batch": members, "batch_kind": "go", "compile_timeout": 60,
                           "run_timeout": 60}, timeout=600)
        elapsed = time.monotonic() - start
    finally:
        box.stop()
    got = {name: (r["status"], (r.get("compile") or {}).get("batch")) for (name, *_), r in zip(programs, out["results"])}
    assert {k: s for k, (s, _) in got.items()} == {name: status for name, _, _, status in programs}, got
    assert got["flooder"][1] is None, got  # judged alone
    assert all(got[k][1] for k in ("canonical-0", "canonical-1", "wrong")), got  # the rest shared one build
    assert elapsed < 30, elapsed  # about 6 s here (the flooder's own compile included); 75+ s before


def _workers_of(docker_client, pid: int):
    from humaneval_x.sandbox.docker_sandbox import LABEL, OWNER_LABEL
    return [c for c in docker_client.containers.list(all=True, filters={"label": LABEL})
            if c.labels.get(OWNER_LABEL, "").split(":")[-2:-1] == [str(pid)]]


def _wait_for_busy_worker(docker_client, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        workers = _workers_of(docker_client, proc.pid)
        if workers:
            time.sleep(4)  # compiled and running by now: the runner is busy with the request
            return workers
        time.sleep(0.2)
    pytest.fail("no worker started")


SPIN = "    for {\n    }\n}\n"  # a Go/0 completion that runs until its CPU limit


@pytest.mark.docker
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_harness_ended_by_sigterm_or_sighup_removes_its_workers(problems, docker_client, data_dir, tmp_path, sig):
    """Issue 29, item 5: SIGTERM killed the harness on the spot (only Ctrl-C cleaned up), and its worker went
    on running the request. Now the harness removes its workers before it exits, with status 128 + signal."""
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": "Go/0", "generation": SPIN}) + "\n")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from humaneval_x.cli import main; main(sys.argv[1:])",
                             "evaluate-samples", str(samples), "--output-dir", str(tmp_path / "out"),
                             "--data-dir", data_dir, "--workers", "1", "--time-limit", "60", "--nocache",
                             "--progress", "False"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_busy_worker(docker_client, proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        left = _workers_of(docker_client, proc.pid)  # at once: the harness itself removed them
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "interrupted" in err
    assert left == []


SANDBOX_THEN_SPIN = """
import json, sys
from humaneval_x.assembly import assemble_go
from humaneval_x.dataset import load_problems
from humaneval_x.execute import make_request
from humaneval_x.languages import get_language
from humaneval_x.sandbox.docker_sandbox import DockerSandbox
from humaneval_x.sandbox.images import image_tag
p = load_problems(data_dir=sys.argv[1])["Go/0"]
request = make_request(get_language("go"), "spin", assemble_go(p, p.prompt, %r))
request.update(run_cpu=120, run_timeout=300)
box = DockerSandbox("go", image_tag("go"))
box.start()
box.execute(request, 600)
""" % SPIN


@pytest.mark.docker
def test_a_worker_ends_within_seconds_of_a_killed_harness_while_it_runs_a_request(docker_client, data_dir):
    """Issue 29, item 5: SIGKILL leaves no harness to clean up: the runner's watchdog sees its connection close
    while the request is in flight and ends the container (it noticed only between requests: a worker ran
    on for the whole request, here up to 300 s)."""
    proc = subprocess.Popen([sys.executable, "-c", SANDBOX_THEN_SPIN, data_dir], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = _wait_for_busy_worker(docker_client, proc)
        proc.kill()
        proc.wait(10)
        killed = time.monotonic()
        while _workers_of(docker_client, proc.pid) and time.monotonic() - killed < 30:
            time.sleep(0.2)
        gone_after = time.monotonic() - killed
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in _workers_of(docker_client, proc.pid):
            c.remove(force=True)
    assert len(workers) == 1
    assert gone_after < 10, gone_after  # about 1-2 s here
