"""What reads a sample's text on the host is linear, never crashes the run, and never lets a sample
replace what its test uses (issue 29). Pure tests first (no Docker), then the verdicts they lead to."""
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from humaneval_x.execute import MAX_SAMPLE_CHARS, Executor, Timeouts, docker_factory, make_job
from humaneval_x.samples import Sample

ROOT = Path(__file__).resolve().parents[1]


def _timed_jobs(data_dir, cases, budget_s: float):
    """Assemble ``cases`` [(task_id, text)] in a child process (a hang cannot hang the suite): the
    seconds each took, or pytest fails when the whole lot overran ``budget_s`` per case."""
    script = textwrap.dedent("""
        import json, sys, time
        from humaneval_x.dataset import load_problems
        from humaneval_x.execute import make_job
        from humaneval_x.samples import Sample
        cases = json.load(sys.stdin)
        problems = load_problems(sorted({t.split("/")[0].lower().replace("javascript", "js") for t, _ in cases}))
        for task_id, text in cases:
            t0 = time.perf_counter()
            job = make_job(Sample(task_id, 0, text), problems[task_id])
            print(json.dumps([task_id, round(time.perf_counter() - t0, 3), (job.outcome or {}).get("status")]), flush=True)
    """)
    env = dict(os.environ, HUMANEVAL_X_DATA=data_dir, PYTHONPATH=str(ROOT))
    try:
        proc = subprocess.run([sys.executable, "-c", script], input=json.dumps(cases), capture_output=True, text=True,
                              env=env, timeout=30 + budget_s * len(cases))
    except subprocess.TimeoutExpired as e:
        done = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"assembly overran its budget after {len(done.splitlines())} of {len(cases)} cases")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


# ---------------------------------------------------------------- the findings, one each
def test_runs_of_stars_and_ampersands_are_linear(data_dir):
    """Finding 1: `int ****...hx{nullptr};` (C++) and `a&a&...&a {` (Java) split a backtracking type
    pattern 2^k ways: 40 stars hung make_job for the whole run."""
    cases = [("CPP/0", "    int " + "*" * 40 + "hx{nullptr};\n    return false;\n}\n"),
             ("CPP/0", "    int " + "*" * 5000 + "hx{nullptr};\n    return false;\n}\n"),
             ("Java/0", "        " + "a&" * 40 + "a {\n        return false;\n    }\n}\n")]
    for task_id, seconds, status in _timed_jobs(data_dir, cases, budget_s=5):
        assert seconds < 5 and status is None, (task_id, seconds, status)


def test_long_go_headers_and_many_js_functions_are_linear(data_dir):
    """Finding 2: 30,000 lines of `var _ struct{}` (Go) and many `function f(` (JavaScript) were quadratic."""
    # whole functions (the clean-up of a continuation would cut what follows the function)
    cases = [("Go/0", "func HasCloseElements(numbers []float64, threshold float64) bool {\n    return false\n}\n"
                      + "var _ struct{}\n" * 30000),
             ("JavaScript/0", "function hasCloseElements(numbers, threshold) {\n  return false;\n}\n" + "function f(" * 60000 + " {\n}\n")]
    for task_id, seconds, status in _timed_jobs(data_dir, cases, budget_s=5):
        assert seconds < 5, (task_id, seconds, status)


def test_a_comment_in_a_java_class_header_is_assembled(problems):
    """Finding 3: `class /* the solution */ Solution {` crashed the whole run (ValueError)."""
    p = problems["Java/10"]
    code = ("class /* the solution */ Solution {\n"
            "    public String makePalindrome(String string) {\n" + p.canonical_solution)
    job = make_job(Sample("Java/10", 0, code), p)
    assert job.outcome is None and job.form == "whole_function"
    assert "class Solution {" in job.program and "public boolean isPalindrome" in job.program
    assert "the solution" not in job.program.split("class Solution")[0][-40:]


def test_a_sample_that_cannot_be_assembled_is_its_own_harness_error(problems, monkeypatch):
    """Assembly errors are the sample's result, and the run goes on without touching a sandbox."""
    from humaneval_x import languages
    p = problems["Python/0"]

    def broken(problem, head, completion):
        raise ValueError("boom")
    monkeypatch.setitem(languages.LANGUAGES, "python", dataclasses.replace(languages.LANGUAGES["python"], assemble=broken))
    job = make_job(Sample("Python/0", 0, "    return True\n"), p)
    assert job.outcome["status"] == "harness_error" and "ValueError: boom" in job.outcome["detail"]

    def no_sandbox(lang):
        raise AssertionError("a decided job reached a sandbox")
    results = []
    Executor(no_sandbox, workers=1).run([job], results.append)
    assert [r["status"] for r in results] == ["harness_error"] and results[0]["stage"] == "assemble"


def test_an_absurdly_large_sample_is_its_own_compile_error(problems):
    job = make_job(Sample("CPP/0", 0, "x" * (MAX_SAMPLE_CHARS + 1)), problems["CPP/0"])
    assert job.outcome["status"] == "compile_error" and "characters" in job.outcome["detail"]


def test_go_imports_what_the_test_uses_whatever_the_sample_declares(problems):
    """Finding 6: a sample declaring `var math` dropped `import "math"` and stood in for the test's math.Abs."""
    job = make_job(Sample("Go/2", 0, GO_FAKE_MATH), problems["Go/2"])
    assert '    "math"\n' in job.program.split(")")[0]
    canonical = make_job(Sample("Go/2", 0, problems["Go/2"].canonical_solution), problems["Go/2"], clean=False)
    assert '    "math"\n' in canonical.program.split(")")[0]


def test_cpp_macros_of_the_tests_names_end_with_the_sample(problems):
    job = make_job(Sample("CPP/2", 0, CPP_FAKE_ABS), problems["CPP/2"])
    program = job.program
    assert program.index('#pragma push_macro("abs")') < program.index("#define abs") < program.index("#undef abs")
    assert program.index('#pragma pop_macro("abs")') < program.index("int main")
    assert '"truncate_number"' not in program  # the entry point may be the sample's own macro


def test_java_imports_the_tests_types_by_name(problems):
    job = make_job(Sample("Java/11", 0, JAVA_FAKE_OBJECTS), problems["Java/11"])
    assert job.program.startswith("import java.") and "import java.lang.AssertionError;\n" in job.program
    assert "import java.util.Objects;\n" in job.program and "import java.util.Arrays;\n" in job.program


GO_F = "func HasCloseElements(numbers []float64, threshold float64) bool {\n    return false\n}\n"


def test_go_import_handling_is_linear(data_dir):
    """Found by an attacker session: a long word in an import block (a backtracking alias pattern), many
    aliased imports (one pass over the body per alias), many plain imports (one alternation of all)."""
    cases = [("Go/0", "import (\n" + "a" * 200_000 + "\n)\n" + GO_F),
             ("Go/0", "    return false\nimport (\n" + "a" * 200_000 + "\n)\n}\n"),
             ("Go/0", "".join(f'import a{i} "x{i}"\n' for i in range(8000)) + GO_F),
             ("Go/0", "".join(f'import "q{i}"\n' for i in range(16000)) + GO_F + "\n" + " " * 400_000 + "\n")]
    for task_id, seconds, status in _timed_jobs(data_dir, cases, budget_s=5):
        assert seconds < 5, (task_id, seconds, status)


def test_go_sample_may_not_redeclare_what_its_test_uses_as_predeclared(problems):
    """Found by an attacker session: `var false = 1 == 1` made the test's assert.Equal(false, ...) true."""
    for decl in ("var false = 1 == 1\n", "var (\n    x, false = 0, 1 == 1\n)\n", "const ( a = 1; false = true )\n"):
        job = make_job(Sample("Go/0", 0, decl + "\n" + GO_F.replace("return false", "return true")), problems["Go/0"])
        assert job.outcome and job.outcome["status"] == "compile_error" and "false" in job.outcome["detail"], job.outcome
    # a name the test does not use, and a predeclared name used as itself, stay legal
    job = make_job(Sample("Go/0", 0, "var x = len(\"ab\")\n\n" + GO_F), problems["Go/0"])
    assert job.outcome is None


def test_cpp_guards_what_the_sample_defines_and_refuses_the_macro_stack(problems):
    """Found by an attacker session: `#define __assert_fail(...) ((void)0)` switched off the test's
    asserts (a name of assert.h's expansion, not of the test); spelled with a line splice or a comment too."""
    for define in ("#define __assert_fail(...) ((void)0)", "#define __assert_f\\\nail(...) ((void)0)",
                   "#/**/define __assert_fail(...) ((void)0)", "%:define __assert_fail(...) ((void)0)"):
        job = make_job(Sample("CPP/0", 0, "    return false;\n" + define + "\n#define _ASSERT_H_DECLS\n}\n"), problems["CPP/0"])
        assert job.outcome is None
        assert '#pragma push_macro("__assert_fail")' in job.program, define
        assert job.program.index("#undef __assert_fail") > job.program.index("_ASSERT_H_DECLS")
    job = make_job(Sample("CPP/0", 0, '    return false;\n#pragma pop_macro("abs")\n}\n'), problems["CPP/0"])
    assert job.outcome["status"] == "compile_error" and "push_macro" in job.outcome["detail"]


def test_every_text_field_of_a_sample_is_valid_unicode(tmp_path):
    """Found by an attacker session: a lone surrogate in `chat_answer` crashed the run after execution
    (results.jsonl could not be written), losing the neighbours' results; now one line before any work."""
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps({"task_id": "Python/0", "generation": "    return True\n"}) + "\n"
                 + json.dumps({"task_id": "Python/1", "generation": "    return []\n", "chat_answer": "```\ud800```"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(f), "--progress", "false"],
                          capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 2, proc.stderr[-500:]
    assert "chat_answer" in proc.stderr and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- fuzz: pathological text per language
FUZZ_TASKS = {"python": "Python/0", "cpp": "CPP/0", "java": "Java/10", "js": "JavaScript/0", "go": "Go/0"}


def test_pathological_samples_assemble_within_budget(data_dir):
    """Every generator of benchmarks/bench_host_side.py at 256 KB, every language: each assembles in a
    few seconds even on a loaded 2-core machine (a quadratic step takes minutes at this size; the
    benchmark prints the real numbers: about a second per megabyte)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_host_side import PROBLEMS, cases
    finally:
        sys.path.pop(0)
    todo = [(PROBLEMS[lang], text) for _, lang, text in cases(256_000)]
    results = _timed_jobs(data_dir, todo, budget_s=4)
    assert len(results) == len(todo)
    slow = [(r, todo[i][1][:40]) for i, r in enumerate(results) if r[1] > 4]
    assert not slow, slow


# ---------------------------------------------------------------- verdicts (Docker)
GO_FAKE_MATH = ("func TruncateNumber(number float64) float64 {\n    return 0.5\n}\n\n"
                "var math = struct{ Abs func(float64) float64 }{func(float64) float64 { return 0 }}\n")
CPP_FAKE_ABS = "#define abs(x) 0\n    return 0.5;\n}\n"  # inside the body: the clean-up keeps it
JAVA_FAKE_OBJECTS = ("import java.util.*;\n\nclass Solution {\n    public String stringXor(String a, String b) {\n"
                     "        return \"\";\n    }\n}\n\nclass Objects {\n"
                     "    static boolean equals(Object a, Object b) { return true; }\n}\n")


@pytest.mark.docker
def test_a_sample_cannot_stand_in_for_what_its_test_uses(problems, docker_client):
    """Wrong samples that replaced the test's math.Abs (Go), abs (C++) or Objects (Java) passed; now
    each is what its language makes of it, and the canonical solutions beside them still pass."""
    jobs = [make_job(Sample("Go/2", 0, GO_FAKE_MATH), problems["Go/2"]),
            make_job(Sample("CPP/2", 0, CPP_FAKE_ABS), problems["CPP/2"]),
            make_job(Sample("Java/11", 0, JAVA_FAKE_OBJECTS), problems["Java/11"])]
    jobs.append(make_job(Sample("CPP/0", 0, "    return false;\n#define _ASSERT_H_DECLS\n"
                                            "#define __assert_fail(...) ((void)0)\n}\n"), problems["CPP/0"]))
    jobs += [make_job(Sample(t, 1, problems[t].canonical_solution), problems[t], clean=False)
             for t in ("Go/2", "CPP/2", "Java/11")]
    java10 = problems["Java/10"]
    jobs.append(make_job(Sample("Java/10", 2, "class /* the solution */ Solution {\n"
                                "    public String makePalindrome(String string) {\n" + java10.canonical_solution), java10))
    results = {}
    Executor(docker_factory(client=docker_client), workers=2, timeouts=Timeouts(run_cpu=5, run_timeout=20)).run(
        jobs, lambda r: results.__setitem__((r["task_id"], r["sample_index"]), r))
    assert results[("Go/2", 0)]["status"] == "compile_error", results[("Go/2", 0)]
    assert results[("CPP/2", 0)]["status"] == "failed", results[("CPP/2", 0)]
    assert results[("Java/11", 0)]["status"] == "compile_error", results[("Java/11", 0)]
    assert results[("CPP/0", 0)]["status"] == "failed", results[("CPP/0", 0)]
    for t in ("Go/2", "CPP/2", "Java/11"):
        assert results[(t, 1)]["status"] == "passed", results[(t, 1)]
    assert results[("Java/10", 2)]["status"] == "passed", results[("Java/10", 2)]
