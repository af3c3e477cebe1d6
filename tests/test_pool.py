"""SandboxPool's handling of dying sandboxes for batches (unit tests with a scripted sandbox; the
real Docker sandbox passes tests/test_sandbox_contract.py and the batch tests of test_fast_paths)."""
from humaneval_x.execute import unbatched
from humaneval_x.sandbox.base import Sandbox, SandboxDied
from humaneval_x.sandbox.pool import SandboxPool


class ScriptedSandbox(Sandbox):
    """Dies on any batch request; answers single requests with 'passed' until stopped."""
    language = "go"
    identity = "scripted"

    def __init__(self):
        self.stopped = False

    def start(self):
        pass

    def execute(self, request, timeout):
        if self.stopped or "batch" in request:
            raise SandboxDied("killed by a member")
        return {"id": request["id"], "status": "passed", "stage": "run", "detail": ""}

    def stop(self):
        self.stopped = True


BATCH = {"id": "batch:a", "batch": [{"id": "a"}, {"id": "b"}], "batch_kind": "go", "compile_timeout": 1, "run_timeout": 2}


def test_a_batch_whose_sandbox_dies_runs_its_members_one_by_one():
    with SandboxPool(ScriptedSandbox, 1) as pool:
        pairs = list(unbatched(pool.map([BATCH])))
        assert pool.replacements == 1
    assert [(m["id"], r["status"]) for m, r in pairs] == [("a", "passed"), ("b", "passed")]


def test_a_batch_whose_sandbox_cannot_be_replaced_is_a_harness_error_per_member():
    started = []

    def factory():
        if started:
            raise RuntimeError("engine gone")
        started.append(1)
        return ScriptedSandbox()

    with SandboxPool(factory, 1) as pool:
        pairs = list(unbatched(pool.map([BATCH])))
    assert [(m["id"], r["status"]) for m, r in pairs] == [("a", "harness_error"), ("b", "harness_error")]
    assert all(r["detail"] == "sandbox died (killed by a member) and could not be replaced: engine gone"
               for _, r in pairs)
