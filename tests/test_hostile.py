"""Hostile programs end as failures within bounded time; the harness stays alive and keeps going."""
import time

import pytest

from humaneval_x.execute import Executor, Timeouts, docker_factory, make_job
from humaneval_x.samples import Sample

pytestmark = pytest.mark.docker

PY_HOSTILE = {
    "fork-bomb": "    import os\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
    "memory-bomb": "    x = []\n    while True:\n        x.append(bytearray(50 * 1024 * 1024))\n",
    "endless-output": "    while True:\n        print('spam' * 1000)\n",
    "ignores-sigterm": "    import signal, time\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    time.sleep(3600)\n",
    "endless-loop": "    while True:\n        pass\n",
    "network": "    import urllib.request\n    urllib.request.urlopen('http://deb.debian.org', timeout=5)\n    return True\n",
    "daemon": "    import os, time\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(3600)\n    return False\n",
}
# closes the function, then forks forever from a static initializer (before main runs)
CPP_FORK_BOMB = ("    return false;\n}\n#include <unistd.h>\n"
                 "static int hx_bomb = []() { while (true) { fork(); } return 0; }();\n")


def test_hostile_programs_fail_and_the_run_goes_on(problems, docker_client):
    p0 = problems["Python/0"]
    samples = [Sample("Python/0", i, code) for i, code in enumerate(PY_HOSTILE.values())]
    samples.append(Sample("Python/0", len(samples), p0.canonical_solution))
    jobs = [make_job(s, p0, clean=False) for s in samples]
    c0 = problems["CPP/0"]
    jobs.append(make_job(Sample("CPP/0", 0, CPP_FORK_BOMB), c0, clean=False))
    jobs.append(make_job(Sample("CPP/0", 1, c0.canonical_solution), c0, clean=False))
    results = {}
    ex = Executor(docker_factory(client=docker_client), workers=2,
                  timeouts=Timeouts(run_cpu=2, run_timeout=6, compile_timeout=60))
    t0 = time.monotonic()
    ex.run(jobs, lambda r: results.__setitem__((r["task_id"], r["sample_index"]), r))
    elapsed = time.monotonic() - t0
    names = list(PY_HOSTILE)
    for i, name in enumerate(names):
        r = results[("Python/0", i)]
        assert r["status"] not in ("passed", "harness_error"), (name, r)
    assert results[("Python/0", len(names))]["status"] == "passed"
    assert results[("CPP/0", 0)]["status"] in ("timeout", "runtime_error"), results[("CPP/0", 0)]
    assert results[("CPP/0", 1)]["status"] == "passed"
    assert results[("Python/0", names.index("endless-loop"))]["status"] == "timeout"
    assert results[("Python/0", names.index("ignores-sigterm"))]["status"] == "timeout"
    assert elapsed < 120, elapsed


def test_a_program_that_kills_everything_it_can_is_its_own_failure(problems, docker_client):
    """kill(-1) and killing its parent reach only the program's own namespace: a runtime_error
    (counted in pass@k), and the canonical neighbour in the same worker passes."""
    p0 = problems["Python/0"]
    killers = ["    import os, signal\n    os.kill(-1, signal.SIGKILL)\n",
               "    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    os.kill(os.getppid(), signal.SIGKILL)\n"]
    jobs = [make_job(Sample("Python/0", i, k), p0, clean=False) for i, k in enumerate(killers)]
    jobs.append(make_job(Sample("Python/0", 9, p0.canonical_solution), p0, clean=False))
    results = {}
    ex = Executor(docker_factory(client=docker_client), workers=1)
    ex.run(jobs, lambda r: results.__setitem__(r["sample_index"], r))
    assert results[0]["status"] == "runtime_error", results[0]
    assert results[1]["status"] in ("runtime_error", "failed"), results[1]
    assert results[9]["status"] == "passed"


def test_programs_that_fill_the_go_build_cache_do_not_starve_later_compiles(problems, docker_client):
    """Go's build cache is the one compiler state kept between programs in a worker: each compile adds
    its packages, and a package-level array makes them as large as a program likes. Before every compile
    the runner makes at least half the worker's /tmp free (the cache goes back to the image's warm one),
    so correct programs after the fillers still compile and pass (they were compile_error: no space left)."""
    from humaneval_x.sandbox.base import SandboxLimits
    p0 = problems["Go/0"]
    # package-level vars keep them out of shared batches: each compiles (and fills the cache) alone
    # KiB; each needs about twice its size while it compiles (its package and the test binary), so
    # halving sizes pack the space full
    sizes = [36 << 10] * 3 + [30 << 10, 15 << 10, 7 << 10, 3584, 1792, 896, 448, 224, 112]
    fillers = ["    return false\n}\n\nvar hxBig%d = [%d << 10]byte{%d<<10 - 1: 1}\n" % (i, kib, kib)
               for i, kib in enumerate(sizes)]
    jobs = [make_job(Sample("Go/0", i, code), p0, clean=False) for i, code in enumerate(fillers)]
    for k in range(1, 4):
        p = problems["Go/%d" % k]
        jobs.append(make_job(Sample(p.task_id, 0, p.canonical_solution + "\nvar hxKeep = %d\n" % k), p, clean=False))
    results = {}
    ex = Executor(docker_factory(SandboxLimits(tmpfs="192m"), client=docker_client), workers=1,
                  timeouts=Timeouts(run_cpu=3, run_timeout=10, compile_timeout=60))
    ex.run(jobs, lambda r: results.__setitem__((r["task_id"], r["sample_index"]), r))
    for i in range(len(fillers)):
        assert results[("Go/0", i)]["status"] not in ("passed", "harness_error"), results[("Go/0", i)]
    for k in range(1, 4):
        r = results[("Go/%d" % k, 0)]
        assert r["status"] == "passed", r


def test_a_compile_killed_at_its_limit_leaves_nothing_in_the_workers_tmp(docker_client):
    """g++ keeps its object in TMPDIR even with -pipe, and a compile killed at its limit never deletes
    it: the compilers' TMPDIR is in the program's stage folder, which goes when the request ends."""
    import subprocess

    from humaneval_x.execute import make_request
    from humaneval_x.languages import get_language
    from humaneval_x.sandbox.docker_sandbox import DockerSandbox
    from humaneval_x.sandbox.images import image_tag
    slow = ("template<int N, int M> struct F { enum { v = F<N-1, 2*M>::v + F<N-1, 2*M+1>::v }; };\n"
            "template<int M> struct F<0, M> { enum { v = 1 }; };\nint main() { return F<19, 0>::v; }\n")
    box = DockerSandbox("cpp", image_tag("cpp"), client=docker_client)
    box.start()
    try:
        r = box.execute(make_request(get_language("cpp"), "x", slow, Timeouts(compile_timeout=2, run_cpu=2,
                                                                               run_timeout=5)).to_wire(), 60)
        assert r["status"] == "timeout" and r["stage"] == "compile", r
        left = subprocess.run(["docker", "exec", box.container.id, "find", "/tmp", "-user", "10001"],
                              capture_output=True, text=True, check=True).stdout.split()
        assert left == [], left
    finally:
        box.stop()
