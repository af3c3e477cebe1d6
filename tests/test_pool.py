"""SandboxPool's handling of dying sandboxes for batches (unit tests with a scripted sandbox; the
real Docker sandbox passes tests/test_sandbox_contract.py and the batch tests of test_fast_paths)."""
from humaneval_x.execute import unbatched
from humaneval_x.sandbox.base import Sandbox, SandboxCondemned, SandboxDied
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
    assert [(m["id"], r.status) for m, r in pairs] == [("a", "passed"), ("b", "passed")]


def test_a_batch_whose_sandbox_cannot_be_replaced_is_a_harness_error_per_member():
    started = []

    def factory():
        if started:
            raise RuntimeError("engine gone")
        started.append(1)
        return ScriptedSandbox()

    with SandboxPool(factory, 1) as pool:
        pairs = list(unbatched(pool.map([BATCH])))
    assert [(m["id"], r.status) for m, r in pairs] == [("a", "harness_error"), ("b", "harness_error")]
    assert all(r.detail == "sandbox died (killed by a member) and could not be replaced: engine gone"
               for _, r in pairs)


class Box(Sandbox):
    """Answers 'passed' for ids in its script; dies on ids starting with 'kill'; fails its checkpoint
    once after running an id starting with 'spoil' (as a worker a program corrupted would)."""
    language = "python"
    identity = "scripted"
    runs = []  # (sandbox number, request id), across instances

    def __init__(self, n):
        self.n, self.spoiled = n, False

    def start(self):
        pass

    def execute(self, request, timeout):
        Box.runs.append((self.n, request["id"]))
        if request["id"].startswith("kill"):
            raise SandboxDied("the runner exited")
        self.spoiled |= request["id"].startswith("spoil")
        return {"id": request["id"], "status": "passed", "stage": "run", "detail": ""}

    def check(self, timeout):
        if self.spoiled:
            raise SandboxCondemned("health check failed")

    def stop(self):
        pass


def boxes():
    Box.runs = []
    count = iter(range(100))
    return lambda: Box(next(count))


def test_results_are_held_until_a_checkpoint_and_a_death_reruns_the_unverified_ones():
    pool = SandboxPool(boxes(), 1, check_every=10)
    with pool:
        out = dict((m["id"], r) for m, r in unbatched(pool.map([{"id": i} for i in ("a", "b", "kill", "c")])))
    # a and b ran on sandbox 0, which died before a checkpoint: they ran again on a fresh one
    assert [rid for n, rid in Box.runs if rid in ("a", "b")] == ["a", "b", "a", "b"]
    # the killer ran again first, alone in a fresh sandbox; killing it too is its own failure
    assert Box.runs[2:5] == [(0, "kill"), (1, "kill"), (2, "a")]
    assert out["kill"].status == "runtime_error" and "alone in a fresh one" in out["kill"].detail
    assert {k: r.status for k, r in out.items() if k != "kill"} == {"a": "passed", "b": "passed", "c": "passed"}
    assert pool.replacements == 2


def test_a_failed_checkpoint_finds_the_program_that_spoiled_its_sandbox():
    pool = SandboxPool(boxes(), 1, check_every=3)
    with pool:
        out = dict((m["id"], r) for m, r in unbatched(pool.map([{"id": i} for i in ("a", "spoil", "b", "c")])))
    assert out["spoil"].status == "runtime_error"
    assert {out[k].status for k in ("a", "b", "c")} == {"passed"}
    assert pool.condemned >= 2
    # every program of the condemned stretch ran again, each with a checkpoint of its own
    assert sum(1 for _, rid in Box.runs if rid == "a") == 2


class CountingBox(Sandbox):
    """Answers every program 'passed' (batches member by member) and counts its checkpoints."""
    language = "go"
    identity = "scripted"
    checks = 0

    def start(self):
        pass

    def execute(self, request, timeout):
        if "batch" in request:
            return {"id": request["id"], "results": [self.execute(m, timeout) for m in request["batch"]]}
        return {"id": request["id"], "status": "passed", "stage": "run", "detail": ""}

    def check(self, timeout):
        CountingBox.checks += 1

    def stop(self):
        pass


def test_a_checkpoint_comes_every_so_many_programs_counting_a_batchs_members():
    """Eight batches of 4 programs with check_every=8: a checkpoint after every second batch (a worker's
    untrusted stretch is 8 programs, not 8 batches of them), so 4 checkpoints in all."""
    CountingBox.checks = 0
    batches = [{"id": "batch:%d" % b, "batch": [{"id": "%d-%d" % (b, k)} for k in range(4)], "batch_kind": "go",
                "compile_timeout": 1, "run_timeout": 4} for b in range(8)]
    with SandboxPool(CountingBox, 1, check_every=8) as pool:
        pairs = list(unbatched(pool.map(batches)))
    assert len(pairs) == 32 and {r.status for _, r in pairs} == {"passed"}
    assert CountingBox.checks == 4


class SpoilingBatchBox(Box):
    """Box (above) that runs batches member by member: a batch holding a 'spoil' member fails its checkpoint."""
    language = "go"

    def execute(self, request, timeout):
        if "batch" in request:
            Box.runs.append((self.n, request["id"]))
            return {"id": request["id"], "results": [Box.execute(self, m, timeout) for m in request["batch"]]}
        return Box.execute(self, request, timeout)


def test_a_batch_that_fails_its_checkpoint_twice_alone_never_makes_its_neighbours_harness_errors():
    """Issue 29, item 8: a Go batch, the only request pending, spoils its sandbox and then the fresh one. Its
    members run again alone, each with a checkpoint of its own: the spoiler is its own runtime_error, its
    neighbours get their own verdicts (they were all harness_error)."""
    Box.runs = []
    count = iter(range(100))
    batch = {"id": "batch:a", "batch": [{"id": "a"}, {"id": "spoil"}, {"id": "b"}], "batch_kind": "go",
             "compile_timeout": 1, "run_timeout": 3}
    with SandboxPool(lambda: SpoilingBatchBox(next(count)), 1) as pool:
        out = {m["id"]: r for m, r in unbatched(pool.map([batch]))}
    assert {k: r.status for k, r in out.items()} == {"a": "passed", "spoil": "runtime_error", "b": "passed"}
    assert "alone in a fresh one" in out["spoil"].detail
    assert [rid for _, rid in Box.runs].count("batch:a") == 2  # the batch twice, then its members alone
