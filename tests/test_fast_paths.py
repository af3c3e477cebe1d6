"""The fast execution paths (zygote-forked Python, PCH, compile server, Go batches, dedupe, results cache) give the
same verdicts as the naive one-process-per-program path, on passing and failing programs."""
import pytest

from humaneval_x.execute import Executor, Timeouts, docker_factory, make_job
from humaneval_x.result_cache import ResultCache
from humaneval_x.samples import Sample
from humaneval_x.selfcheck import WRONG

pytestmark = pytest.mark.docker


def jobs_for(problems, lang, prefix):
    jobs = [make_job(Sample(f"{prefix}/{i}", 0, problems[f"{prefix}/{i}"].canonical_solution),
                     problems[f"{prefix}/{i}"], clean=False) for i in range(4)]
    p0 = problems[f"{prefix}/0"]
    jobs += [make_job(Sample(p0.task_id, i + 1, code), p0, clean=False) for i, (_, code, _) in enumerate(WRONG[lang])]
    # a duplicate of a canonical program: executed once on the fast path
    jobs.append(make_job(Sample(p0.task_id, 99, p0.canonical_solution), p0, clean=False))
    return jobs


def run(jobs, **kw):
    out = {}
    ex = Executor(docker_factory(), workers=2, timeouts=Timeouts(run_cpu=2, run_timeout=8), **kw)
    ex.run(jobs, lambda r: out.__setitem__((r["task_id"], r["sample_index"]), r))
    return out, ex


@pytest.mark.parametrize("lang,prefix", [("python", "Python"), ("cpp", "CPP"), ("java", "Java"), ("js", "JavaScript"),
                                         ("go", "Go")])
def test_fast_equals_naive(problems, docker_client, tmp_path, lang, prefix):
    jobs = jobs_for(problems, lang, prefix)
    naive, nex = run(jobs, naive=True)
    cache = ResultCache(tmp_path / "c.sqlite")
    fast, fex = run(jobs, cache=cache)
    assert {k: r["status"] for k, r in fast.items()} == {k: r["status"] for k, r in naive.items()}
    assert nex.executed == len(jobs) and fex.executed == len(jobs) - 1  # the duplicate ran once
    assert fast[(f"{prefix}/0", 99)]["reused_result"]
    again, aex = run(jobs, cache=cache)  # a second run: every verdict from the cache
    assert aex.executed == 0 and aex.cache_hits == len(jobs) - 1
    assert {k: r["status"] for k, r in again.items()} == {k: r["status"] for k, r in naive.items()}
    expected = {(f"{prefix}/0", i + 1): status for i, (_, _, status) in enumerate(WRONG[lang])}
    expected.update({(f"{prefix}/{i}", 0): "passed" for i in range(4)})
    assert {k: naive[k]["status"] for k in expected} == expected
    assert {k: fast[k]["status"] for k in expected} == expected


GO_BATCH_CASES = [  # completions of Go/0 that stress the shared build of a Go batch
    ("vet-error", '    fmt.Printf("%d\\n", "not a number")\n    return false\n}\n', "compile_error"),
    ("type-error", "    return undefinedName\n}\n", "compile_error"),
    ("unused-variable", "    x := 1\n    return false\n}\n", "compile_error"),
    ("package-var", "    return flag\n}\n\nvar flag = false\n", "failed"),  # not batch-eligible: alone
    ("init", "    return seen\n}\n\nvar seen bool\n\nfunc init() { seen = true }\n", "failed"),
    ("prints-and-fails", '    fmt.Println("--- FAIL")\n    return false\n}\n', "failed"),
]


def test_go_batch_equals_naive(problems, docker_client):
    """Go programs share one build per batch: a member that fails vet or type checking is a
    compile error of its own, and does not change its neighbours' verdicts."""
    jobs = jobs_for(problems, "go", "Go")
    p0 = problems["Go/0"]
    jobs += [make_job(Sample(p0.task_id, 10 + i, code), p0, clean=False) for i, (_, code, _) in enumerate(GO_BATCH_CASES)]
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    expected = {("Go/0", 10 + i): status for i, (_, _, status) in enumerate(GO_BATCH_CASES)}
    expected.update({(f"Go/{i}", 0): "passed" for i in range(4)})
    assert {k: naive[k]["status"] for k in expected} == expected
    assert {k: r["status"] for k, r in fast.items()} == {k: r["status"] for k, r in naive.items()}
    batched = [r for r in fast.values() if (r.get("compile") or {}).get("batch")]
    assert len(batched) >= 8  # the eligible programs really shared a build


def test_js_snapshot_start_runs_the_program_as_node_would(problems, docker_client):
    """The fast JavaScript start (Node's bootstrap from a startup snapshot) runs main.js as the main
    module of a fresh process, in its own working folder, with the same output as plain `node main.js`."""
    p = problems["JavaScript/0"]
    probe = p.canonical_solution + (
        "\nconsole.log(JSON.stringify([require.main === module, process.cwd(), __filename, process.argv.length,"
        " typeof require('js-md5'), globalThis.__hxSnapshotLeak === undefined]))\n")
    jobs = [make_job(Sample(p.task_id, 0, probe), p, clean=False)]
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    out = {name: r[(p.task_id, 0)] for name, r in (("naive", naive), ("fast", fast))}
    assert out["fast"]["status"] == out["naive"]["status"] == "passed"
    assert '[true,"/tmp/work","/tmp/work/main.js",2,"function",true]' in out["fast"]["run"]["stdout"]
    lines = {name: [x for x in r["run"]["stdout"].splitlines() if not x.startswith("HX_SUITE_DONE_")]
             for name, r in out.items()}
    assert lines["fast"] == lines["naive"]
    assert "snapshot" not in out["fast"]["run"]["stderr"]


def test_go_batch_member_with_init_code_leaves_the_batch(problems, docker_client):
    """The runner's own check, past the host's text check: a member whose package has initialisation
    code (which would run in every member's process of a shared binary) is found in the linked binary's
    symbols and compiled alone; its neighbours keep their verdicts."""
    from humaneval_x.assembly import assemble_go
    from humaneval_x.execute import make_request
    from humaneval_x.languages import get_language
    from humaneval_x.sandbox.docker_sandbox import DockerSandbox
    from humaneval_x.sandbox.images import image_tag
    go, p = get_language("go"), problems["Go/0"]
    body = "    return false\n}\n"
    programs = [("canonical", p.canonical_solution, "passed"),
                ("init-exit-1", body + "\nvar hxKill = func() int { os.Exit(1); return 0 }()\n", "runtime_error"),
                ("init-exit-0", body + "\nfunc init() { os.Exit(0) }\n", "failed"),
                ("wrong", body, "failed"),
                ("canonical-again", p.canonical_solution + "\n// again\n", "passed")]
    members = []
    for i, (name, code, _) in enumerate(programs):
        r = make_request(go, "m%d" % i, assemble_go(p, p.prompt, code)).to_wire()
        r["batch_info"] = r.get("batch_info") or {"test": "TestHasCloseElements"}  # forced: as if the host missed it
        members.append(r)
    box = DockerSandbox("go", image_tag("go"), client=docker_client)
    box.start()
    try:
        out = box.execute({"id": "b", "batch": members, "batch_kind": "go", "compile_timeout": 60,
                           "run_timeout": 60}, timeout=300)
    finally:
        box.stop()
    got = {name: (r["status"], (r.get("compile") or {}).get("batch")) for (name, _, _), r in zip(programs, out["results"])}
    assert {k: s for k, (s, _) in got.items()} == {name: status for name, _, status in programs}, got
    assert got["init-exit-1"][1] is None and got["init-exit-0"][1] is None, got  # compiled alone
    assert got["canonical"][1] and got["wrong"][1] and got["canonical-again"][1], got  # the rest still shared one build


# What a fresh interpreter gives a program and the fast start must give it too (found by an attacker
# session: each was a different verdict on the fast path); appended after a canonical solution.
FIDELITY = {
    "Python": {
        "pickle-main-class": "import pickle\nclass _HxP:\n    pass\npickle.loads(pickle.dumps(_HxP()))\n",
        "main-module": "import sys, __main__\nassert sys.modules[__name__] is __main__ and __main__.has_close_elements\n",
        "sigpipe": "import os as _o\n_r, _w = _o.pipe()\n_o.close(_r)\ntry:\n    _o.write(_w, b'x')\nexcept BrokenPipeError:\n    pass\n",
        "sigint": "import os as _o, signal as _s, time\ntry:\n    _o.kill(_o.getpid(), _s.SIGINT)\n    time.sleep(0.5)\n"
                  "except KeyboardInterrupt:\n    pass\n",
        "thread-exit-after": "import threading, time, os as _o\ndef _t():\n    time.sleep(0.3)\n    _o._exit(3)\n"
                             "threading.Thread(target=_t).start()\n",  # runtime_error both ways
        "surrogate-print": "print('\\udcff')\n",
        "recursion-990": "def _r(n):\n    return 0 if n == 0 else 1 + _r(n - 1)\n_r(990)\n",
        "argv": "import sys\nassert sys.argv == ['main.py'] and __spec__ is None and __file__ == '/tmp/work/main.py'\n",
    },
    "JavaScript": {
        "execArgv-child": "const __o = require('child_process').execFileSync(process.execPath, [...process.execArgv, '-e', "
                          "'console.log(41+1)']).toString(); if (__o.trim() !== '42') throw new Error('child ' + __o);\n",
    },
}


@pytest.mark.parametrize("prefix", sorted(FIDELITY))
def test_the_fast_start_gives_a_program_what_a_fresh_interpreter_does(problems, docker_client, prefix):
    p = problems[f"{prefix}/0"]
    jobs = [make_job(Sample(p.task_id, i, p.canonical_solution + "\n" + code), p, clean=False)
            for i, code in enumerate(FIDELITY[prefix].values())]
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    got = {name: (naive[(p.task_id, i)]["status"], fast[(p.task_id, i)]["status"])
           for i, name in enumerate(FIDELITY[prefix])}
    assert all(a == b for a, b in got.values()), got
    assert {name for name, (a, _) in got.items() if a != "passed"} <= {"thread-exit-after"}, got


# Programs that name the fast paths' own machinery (issue 29, item 7: the Java compile server's class path
# was the compile class path of every program it compiled, so a completion naming HxJavac compiled on the
# fast path and was a compile_error on the naive one): members of the canonical solution's class, with the
# verdict both paths must give.
HARNESS_PROBES = {
    "Java": [
        ("names-the-compile-server", "    static Object hxProbe() { return HxJavac.class; }\n", "compile_error"),
        ("names-its-source", "    static Object hxProbe() { return new HxJavac(); }\n", "compile_error"),
        ("reads-its-files", "    static { for (String f : new String[] {\"HxJavac.class\", \"HxJavac.java\"})"
                            " if (new java.io.File(\"/opt/hx/javac/\" + f).exists()) throw new Error(f); }\n", "passed"),
    ],
}


@pytest.mark.parametrize("prefix", sorted(HARNESS_PROBES))
def test_fast_paths_see_nothing_of_the_harness(problems, docker_client, prefix):
    p = problems[f"{prefix}/0"]
    probes = HARNESS_PROBES[prefix]
    inside = p.canonical_solution.rstrip()
    assert inside.endswith("}")
    jobs = [make_job(Sample(p.task_id, i, inside[:-1] + code + "}\n"), p, clean=False)
            for i, (_, code, _) in enumerate(probes)]
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    got = {name: (naive[(p.task_id, i)]["status"], fast[(p.task_id, i)]["status"])
           for i, (name, _, _) in enumerate(probes)}
    assert got == {name: (status, status) for name, _, status in probes}, got
