"""The fast execution paths (fork server, PCH, compile server, dedupe, results cache) give the
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


JS_VM_CASES = [  # completions of JavaScript/0 run in the long-lived Node's fresh contexts
    ("prints-and-passes", "  console.log('checking', numbers, {threshold});\n"
                          "  for (let i = 0; i < numbers.length; i++)\n    for (let j = 0; j < numbers.length; j++)\n"
                          "      if (i != j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                          "  return false;\n}\n", "passed"),
    ("throws-a-string", "  throw 'nope';\n}\n", "runtime_error"),
    ("stack-overflow", "  const f = (n) => f(n + 1) + 1;\n  return f(0);\n}\n", "runtime_error"),
    ("syntax-error", "  return (;\n}\n", "runtime_error"),
    ("endless-loop", "  while (true) {}\n}\n", "timeout"),
    ("endless-output", "  while (true) console.log('spam '.repeat(1000));\n}\n", None),  # whatever Node does
    ("leaks-a-global", "  leaked = 1;\n  return false;\n}\n", "failed"),
    ("reads-the-leak", "  if (typeof leaked !== 'undefined') return true;\n  return false;\n}\n", "failed"),
]


def test_js_vm_equals_naive(problems, docker_client):
    """Programs run in fresh contexts of one Node get Node's verdicts; no state crosses programs."""
    from humaneval_x.assembly import js_vm_eligible
    p0 = problems["JavaScript/0"]
    jobs = [make_job(Sample(p0.task_id, i, code), p0, clean=False) for i, (_, code, _) in enumerate(JS_VM_CASES)]
    jobs.append(make_job(Sample(p0.task_id, 99, p0.canonical_solution), p0, clean=False))
    assert all(js_vm_eligible(j.program) for j in jobs)
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    expected = {(p0.task_id, i): status for i, (_, _, status) in enumerate(JS_VM_CASES) if status}
    expected[(p0.task_id, 99)] = "passed"
    assert {k: naive[k]["status"] for k in expected} == expected
    assert {k: r["status"] for k, r in fast.items()} == {k: r["status"] for k, r in naive.items()}
    assert naive[(p0.task_id, 5)]["status"] != "passed"
    # all ran there, but the endless output: past the file size limit it ran alone, as Node does
    assert {k for k, r in fast.items() if not r["run"].get("vm")} == {(p0.task_id, 5)}
    assert not any(r["run"].get("vm") for r in naive.values())
    # console.log formats like Node's
    assert fast[(p0.task_id, 0)]["run"]["stdout"] == naive[(p0.task_id, 0)]["run"]["stdout"]
    assert "checking [ 1, 2, 3.9, 4, 5, 2.2 ] { threshold: 0.3 }" in fast[(p0.task_id, 0)]["run"]["stdout"]


JAVA_VM_CASES = [  # completions of Java/0 run in fresh class loaders of one long-lived JVM
    ("throws", '        throw new IllegalStateException("nope");\n    }\n}\n', "runtime_error"),
    ("stack-overflow", "        return hasCloseElements(numbers, threshold);\n    }\n}\n", "runtime_error"),
    ("out-of-memory", "        List<long[]> a = new ArrayList<>();\n        while (true) a.add(new long[1 << 24]);\n"
                      "    }\n}\n", "runtime_error"),
    ("endless-loop", "        while (true) {}\n    }\n}\n", "timeout"),
    ("prints-and-fails", '        System.out.println("java.lang.AssertionError maybe");\n        return false;\n    }\n}\n',
     "failed"),
]


def test_java_vm_equals_naive(problems, docker_client):
    """Java programs run in fresh class loaders of one JVM get the verdicts of `java` per program:
    static state does not leak, a crash of the JVM (out of memory) costs no other verdict."""
    from humaneval_x.assembly import java_vm_eligible
    p0 = problems["Java/0"]
    jobs = [make_job(Sample(p0.task_id, i, code), p0, clean=False) for i, (_, code, _) in enumerate(JAVA_VM_CASES)]
    # correct only in a class loaded once: passes only if no static state survives from the copies before
    once = p0.canonical_solution.rstrip()
    assert once.endswith("}")
    once = "        if (loads != 1) return !true;\n" + once[:-1] + "    static int loads = 0;\n    static { loads++; }\n}\n"
    for i in range(3):
        jobs.append(make_job(Sample(p0.task_id, 100 + i, once + "// copy %d\n" % i), p0, clean=False))
    assert all(java_vm_eligible(j.program) for j in jobs)
    naive, _ = run(jobs, naive=True)
    fast, _ = run(jobs)
    expected = {(p0.task_id, i): status for i, (_, _, status) in enumerate(JAVA_VM_CASES)}
    expected.update({(p0.task_id, 100 + i): "passed" for i in range(3)})
    assert {k: naive[k]["status"] for k in expected} == expected
    assert {k: r["status"] for k, r in fast.items()} == {k: r["status"] for k, r in naive.items()}
    assert all(fast[(p0.task_id, 100 + i)]["run"].get("vm") for i in range(3))
