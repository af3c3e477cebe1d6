"""One contract between host and runner (runners/hxrunner/protocol.py): the host reads the very file
the images ship, builds requests of its shape, and refuses a runner that speaks another version."""
import json
import sys
from pathlib import Path

import pytest

from humaneval_x import protocol
from humaneval_x.errors import SandboxError
from humaneval_x.execute import Timeouts, batch_requests, make_request, unbatched
from humaneval_x.languages import LANGUAGES
from humaneval_x.sandbox import base

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "runners"))

from hxrunner import dispatch, loop  # noqa: E402
from hxrunner import protocol as runner_protocol  # noqa: E402


def test_host_and_runner_read_one_definition():
    assert Path(protocol._p.__file__).resolve() == (ROOT / "runners" / "hxrunner" / "protocol.py").resolve()
    for name in ("PROTOCOL_VERSION", "ISOLATION", "STATUSES", "MODEL_STATUSES", "OUTPUT_CAP",
                 "DEFAULT_COMPILE_TIMEOUT", "DEFAULT_RUN_TIMEOUT", "DEFAULT_RUN_CPU"):
        assert getattr(protocol, name) == getattr(runner_protocol, name), name
    assert base.STATUSES is protocol.STATUSES and base.MODEL_STATUSES is protocol.MODEL_STATUSES
    assert "harness_error" not in protocol.MODEL_STATUSES
    assert loop.HELLO == {"ready": True, "protocol": protocol.PROTOCOL_VERSION, "isolation": protocol.ISOLATION}
    assert dispatch.OUTPUT_CAP == protocol.OUTPUT_CAP


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("naive", [False, True])
def test_every_request_the_host_builds_is_a_protocol_request(lang, naive, problems):
    spec = LANGUAGES[lang]
    problem = next((p for p in problems.values() if p.language == lang), None)
    if problem is None:
        pytest.skip(f"no {lang} data here")
    program = spec.assemble(problem, problem.prompt, problem.canonical_solution)
    wire = make_request(spec, "id1", program, Timeouts(run_cpu=3.0), naive=naive)
    assert set(wire) <= set(protocol.Request.FIELDS), set(wire) - set(protocol.Request.FIELDS)
    typed = protocol.Request.from_wire(wire)
    assert json.loads(json.dumps(typed.to_wire())) == json.loads(json.dumps(wire))  # both ways, exactly
    assert typed.output_cap == protocol.OUTPUT_CAP and typed.run_cpu == 3.0


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


def test_one_harness_error_for_requests_batches_and_lost_members():
    assert protocol.harness_error("r", "gone") == {"id": "r", "status": "harness_error", "stage": None, "detail": "gone"}
    batch = {"id": "b", "batch": [{"id": "m1"}, {"id": "m2"}]}
    assert protocol.harness_error_for(batch, "gone") == {
        "id": "b", "results": [protocol.harness_error("m1", "gone"), protocol.harness_error("m2", "gone")]}
    # a batch reply missing a member: that member's harness_error, the others' verdicts kept
    reply = {"id": "b", "results": [{"id": "m1", "status": "passed"}]}
    got = dict((r["id"], o) for r, o in unbatched([(batch, reply)]))
    assert got["m1"]["status"] == "passed" and got["m2"] == protocol.harness_error(
        "m2", "the batch returned no result for this program")


def test_batches_keep_the_protocols_shape():
    spec = LANGUAGES["go"]
    reqs = [dict(make_request(spec, f"g{i}", "package main\n", Timeouts()), batch_info={"test": "TestX"})
            for i in range(3)]
    (batch,) = batch_requests(spec, reqs)
    assert batch["batch_kind"] == "go" and [m["id"] for m in batch["batch"]] == ["g0", "g1", "g2"]
    assert protocol.host_timeout(batch) == batch["compile_timeout"] + sum(protocol.host_timeout(m) for m in reqs)


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
