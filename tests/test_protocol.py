"""One contract between host and runner (runners/hxrunner/protocol.py): the host reads the very file
the images ship, builds requests of its shape, and refuses a runner that speaks another version."""
import json
import re
import sys
from pathlib import Path

import pytest

from humaneval_x import protocol
from humaneval_x.errors import SandboxError
from humaneval_x.execute import Executor, Timeouts, batch_requests, make_job, make_request, unbatched
from humaneval_x.languages import LANGUAGES
from humaneval_x.samples import Sample
from humaneval_x.sandbox import base

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "runners"))

from hxrunner import dispatch, loop  # noqa: E402
from hxrunner import protocol as runner_protocol  # noqa: E402
from hxrunner.langs import go as runner_go, rust as runner_rust  # noqa: E402


def test_host_and_runner_read_one_definition():
    assert Path(protocol._p.__file__).resolve() == (ROOT / "runners" / "hxrunner" / "protocol.py").resolve()
    for name in ("PROTOCOL_VERSION", "ISOLATION", "STATUSES", "MODEL_STATUSES", "OUTPUT_CAP",
                 "DEFAULT_COMPILE_TIMEOUT", "DEFAULT_RUN_TIMEOUT", "DEFAULT_RUN_CPU"):
        assert getattr(protocol, name) == getattr(runner_protocol, name), name
    assert base.STATUSES is protocol.STATUSES and base.MODEL_STATUSES is protocol.MODEL_STATUSES
    assert "harness_error" not in protocol.MODEL_STATUSES
    assert loop.HELLO == {"ready": True, "protocol": protocol.PROTOCOL_VERSION, "isolation": protocol.ISOLATION}


def test_the_defaults_live_in_the_protocol_only():
    """No part of the runner or of the host reads a request's limit with a default of its own: a
    request is decoded by ``Request.from_wire`` (runner) or made by ``make_request`` (host)."""
    key = r"""(?:\.get\(|\[)["'](?:compile_timeout|run_timeout|run_cpu|output_cap|failure_markers|crash_markers)["']"""
    offenders = []
    for path in [*(ROOT / "runners" / "hxrunner").rglob("*.py"), *(ROOT / "humaneval_x").rglob("*.py")]:
        if path.name == "protocol.py":
            continue
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                      if re.search(key, line)]
    assert offenders == []
    sparse = protocol.Request.from_wire({"id": "x", "files": {}, "run": ["./x"], "run_timeout": None})
    assert sparse == protocol.Request("x", {}, ["./x"])  # null on the wire: the default, as left out
    assert protocol.Batch.from_wire({"id": "b", "batch": [sparse.to_wire()]}).compile_timeout == \
        protocol.DEFAULT_COMPILE_TIMEOUT


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("naive", [False, True])
def test_every_request_the_host_builds_is_a_protocol_request(lang, naive, problems):
    spec = LANGUAGES[lang]
    problem = next((p for p in problems.values() if p.language == lang), None)
    if problem is None:
        pytest.skip(f"no {lang} data here")
    program = spec.assemble(problem, problem.prompt, problem.canonical_solution)
    typed = make_request(spec, "id1", program, Timeouts(run_cpu=3.0), naive=naive)
    wire = typed.to_wire()
    assert set(wire) <= set(protocol.Request.FIELDS), set(wire) - set(protocol.Request.FIELDS)
    received = runner_protocol.Request.from_wire(json.loads(json.dumps(wire)))  # as the runner decodes it
    assert received.to_wire() == json.loads(json.dumps(wire))  # both ways, exactly
    assert received.output_cap == protocol.OUTPUT_CAP and received.run_cpu == 3.0
    assert received.run_timeout == spec.run_timeout and received.compile_timeout == spec.compile_timeout


@pytest.mark.parametrize("naive", [False, True])
def test_a_job_carries_its_request_and_the_run_sends_it_under_its_limits(naive, problems):
    """make_job builds the program's request once; the executor sends it under the run's limits, and the
    result digest reads the same request (a resumed run's digests are unchanged)."""
    problem = next(p for p in problems.values() if p.language == "go")
    job = make_job(Sample(problem.task_id, 0, problem.canonical_solution), problem, clean=False)
    spec = LANGUAGES["go"]
    assert job.request == make_request(spec, job.program_hash, job.program)
    ex = Executor(sandbox_factory=lambda lang: None, timeouts=Timeouts(run_cpu=3.0, run_timeout=7.0), naive=naive)
    sent = ex.request_for(job, "r1")
    assert sent == make_request(spec, "r1", job.program, Timeouts(run_cpu=3.0, run_timeout=7.0), naive=naive)
    assert (sent.run_cpu, sent.run_timeout, sent.compile_timeout) == (3.0, 7.0, spec.compile_timeout)
    assert job.request.run_cpu == spec.run_cpu  # the job's own request is left as it was
    plain = Executor(sandbox_factory=lambda lang: None, naive=naive)
    assert plain.digest(job) != ex.digest(job) and plain.digest(job) == plain.digest(job)


def test_a_sparse_request_takes_the_protocols_defaults():
    r = protocol.Request.from_wire({"id": "x", "files": {"a": ""}, "run": ["./a"]})
    assert (r.compile_timeout, r.run_timeout, r.run_cpu, r.output_cap) == (
        protocol.DEFAULT_COMPILE_TIMEOUT, protocol.DEFAULT_RUN_TIMEOUT, protocol.DEFAULT_RUN_CPU, protocol.OUTPUT_CAP)
    assert protocol.host_timeout(r.to_wire()) == protocol.host_timeout({"id": "x"})  # the same defaults


def test_outcomes_both_ways_and_unknown_statuses():
    wire = {"id": "p", "status": "failed", "stage": "run", "detail": "a test assertion failed",
            "compile": {"returncode": 0, "timed_out": False, "wall_s": 0.1, "cpu_s": None, "stdout": "", "stderr": "",
                        "batch": 32},
            "run": {"returncode": 1, "timed_out": False, "wall_s": 0.2, "cpu_s": 0.1, "stdout": "x", "stderr": "y"}}
    assert protocol.Outcome.from_wire(wire).to_wire() == wire
    odd = protocol.Outcome.from_wire({"id": "p", "status": "passd"})
    assert odd.status == "harness_error" and "passd" in odd.detail
    # a stage's field the runner did not report stays unknown, as records always showed it
    failed = protocol.Outcome.from_wire({"id": "p", "status": "harness_error", "stage": "compile", "detail": "x",
                                         "compile": {"returncode": None, "error": "cannot start 'g++'"}})
    assert failed.to_wire()["compile"] == dict.fromkeys(protocol.Stage.FIELDS)


def test_one_harness_error_for_requests_batches_and_lost_members():
    assert protocol.harness_error("r", "gone") == {"id": "r", "status": "harness_error", "stage": None, "detail": "gone"}
    assert protocol.Outcome.harness_error("r", "gone").to_wire() == protocol.harness_error("r", "gone")
    batch = {"id": "b", "batch": [{"id": "m1"}, {"id": "m2"}]}
    assert protocol.harness_error_for(batch, "gone") == {
        "id": "b", "results": [protocol.harness_error("m1", "gone"), protocol.harness_error("m2", "gone")]}
    # a batch reply missing a member: that member's harness_error, the others' verdicts kept
    reply = {"id": "b", "results": [{"id": "m1", "status": "passed"}]}
    got = dict((r["id"], o) for r, o in unbatched([(batch, reply)]))
    assert got["m1"].status == "passed" and got["m2"].to_wire() == protocol.harness_error(
        "m2", "the batch returned no result for this program")
    # a pool's harness_error for a whole batch: each member's own, decoded
    got = [o.to_wire() for _, o in unbatched([(batch, protocol.harness_error_for(batch, "gone"))])]
    assert got == [protocol.harness_error("m1", "gone"), protocol.harness_error("m2", "gone")]


def test_batches_keep_the_protocols_shape():
    spec = LANGUAGES["go"]
    reqs = [make_request(spec, f"g{i}", "package main\n", Timeouts()).replace(batch_info={"test": "TestX"})
            for i in range(3)]
    alone = make_request(spec, "g3", "package main\n", Timeouts(), naive=True)  # no batch_info: alone
    batch, single = batch_requests(spec, reqs + [alone])
    assert single == alone.to_wire()
    assert batch == {"id": "batch:g0", "batch": [r.to_wire() for r in reqs], "batch_kind": "go",
                     "compile_timeout": spec.compile_timeout, "run_timeout": 3 * spec.run_timeout}
    received = runner_protocol.Batch.from_wire(json.loads(json.dumps(batch)))  # as the runner decodes it
    assert received.to_wire() == batch and received.kind == "go" and [m.id for m in received.members] == ["g0", "g1", "g2"]
    assert protocol.host_timeout(batch) == batch["compile_timeout"] + sum(protocol.host_timeout(m.to_wire()) for m in reqs)
    assert batch_requests(spec, reqs[:1]) == [reqs[0].to_wire()]  # a batch of one goes alone


class Probe(dispatch.Runner):
    """The runner's dispatch without its mechanism (no stage, zygote or compile server): what it decodes
    and how it answers."""

    def __init__(self):
        self.seen = []

    def execute(self, req):
        self.seen.append(req)
        return runner_protocol.Outcome(req.id, "passed", "run", "",
                                       run=runner_protocol.Stage(0, False, 0.1, 0.05, "ok", ""))


def test_the_runner_decodes_requests_and_encodes_outcomes_by_the_protocol():
    runner = Probe()
    reply = runner.answer({"id": "x", "files": {"main.py": ""}, "run": ["python3", "main.py"]})
    assert reply == {"id": "x", "status": "passed", "stage": "run", "detail": "",
                     "run": {"returncode": 0, "timed_out": False, "wall_s": 0.1, "cpu_s": 0.05, "stdout": "ok",
                             "stderr": ""}}
    (req,) = runner.seen
    assert (req.compile_timeout, req.run_timeout, req.run_cpu, req.output_cap, req.compile) == (
        protocol.DEFAULT_COMPILE_TIMEOUT, protocol.DEFAULT_RUN_TIMEOUT, protocol.DEFAULT_RUN_CPU,
        protocol.OUTPUT_CAP, None)
    assert protocol.Outcome.from_wire(reply).to_wire() == reply


@pytest.mark.parametrize("kind", ["go", "rust", "cobol"])
def test_a_batch_its_language_cannot_settle_runs_each_member_alone_in_order(kind):
    """Members that cannot share a build (no batch_info here) come back from the language's module
    unsettled and run alone, each answered in the batch's reply at its own place."""
    runner = Probe()
    members = [{"id": f"m{i}", "files": {"main.go": "package main\n"}, "run": ["./main"]} for i in range(3)]
    reply = runner.answer({"id": "batch:m0", "batch": members, "batch_kind": kind, "compile_timeout": 5,
                           "run_timeout": 60})
    assert reply["id"] == "batch:m0" and [o["id"] for o in reply["results"]] == ["m0", "m1", "m2"]
    assert [r.id for r in runner.seen] == ["m0", "m1", "m2"]
    batch = runner_protocol.Batch.from_wire({"id": "b", "batch": members})
    assert runner_go.build_batch(runner, batch) == {} and runner_rust.build_batch(runner, batch) == {}


def test_the_handshake_check_names_both_versions():
    protocol.check_handshake("img", {"protocol": protocol.PROTOCOL_VERSION, "isolation": protocol.ISOLATION})
    with pytest.raises(SandboxError) as exc:
        protocol.check_handshake("humaneval-x/go:old", {"ready": True, "isolation": "ns-uid-v3"})
    msg = str(exc.value)
    assert "\n" not in msg and "humaneval-x/go:old" in msg
    assert "protocol None (isolation ns-uid-v3)" in msg
    assert f"protocol {protocol.PROTOCOL_VERSION} (isolation {protocol.ISOLATION})" in msg


@pytest.mark.docker
def test_a_sandbox_whose_runner_speaks_another_version_is_refused(docker_client, monkeypatch):
    """A real worker container of the current image, whose runner answers as an older image's would."""
    from humaneval_x.sandbox import docker_sandbox
    from humaneval_x.sandbox.images import image_tag
    old_hello = json.dumps({"ready": True, "isolation": "ns-uid-v3"})
    monkeypatch.setattr(docker_sandbox, "RUNNER_CMD",
                        ["python3", "-c", f"import time; print({old_hello!r}, flush=True); time.sleep(60)"])
    box = docker_sandbox.DockerSandbox("python", image_tag("python"), client=docker_client)
    with pytest.raises(SandboxError) as exc:
        box.start()
    assert "protocol None (isolation ns-uid-v3)" in str(exc.value)
    assert f"protocol {protocol.PROTOCOL_VERSION}" in str(exc.value)
    assert box.container is None  # the refused worker is gone
