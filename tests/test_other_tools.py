"""Samples from other tools: whole functions (chat models, evalplus files) and Markdown fences."""
import json

import pytest

from humaneval_x.assembly import CPP_DEFS, GO_DEFS, JAVA_DEFS, JS_DEFS, PY_DEF, _prompt_split, prepare_sample, unfence
from humaneval_x.execute import Executor, compile_error_detail, make_job
from humaneval_x.languages import LANGUAGES
from humaneval_x.samples import Sample, load_samples
from humaneval_x.selfcheck import WRONG
from humaneval_x.summary import summarize

FENCE_TAG = {"python": "python", "cpp": "cpp", "java": "java", "js": "javascript", "go": "go", "rust": "rust"}
PROBLEMS = (0, 10, 38, 50, 162)  # 10/38/50: the prompt holds a helper; 162: md5 (imports, includes, require)


def signature_and_body(p) -> str:
    """The prompt's function alone (no helpers, no imports), as a chat model writes it."""
    if p.language == "python":
        return p.prompt[list(PY_DEF.finditer(p.prompt))[-1].start():] + p.canonical_solution
    if p.language == "java":  # the method only: the canonical solution also closes class Solution
        prefix, _, _ = _prompt_split(p.prompt, JAVA_DEFS, depth=1)
        return p.prompt[len(prefix):] + p.canonical_solution.rstrip()[:-1]
    if p.language == "rust":  # from the prompt's last `fn` (its helpers and `use` lines left out)
        from humaneval_x import rust
        return p.prompt[rust.items(p.prompt)[-1][2]:] + p.canonical_solution
    prefix, _, _ = _prompt_split(p.prompt, {"cpp": CPP_DEFS, "js": JS_DEFS, "go": GO_DEFS}[p.language])
    return p.prompt[len(prefix):] + p.canonical_solution


def fenced(p, code: str) -> str:
    return f"Here is the completed function:\n\n```{FENCE_TAG[p.language]}\n{code.strip()}\n```\n\nIt loops once.\n"


def form_of(p, text, clean=True, whole=False):
    return prepare_sample(LANGUAGES[p.language], p, text, clean, whole)[0]


# ------------------------------------------------------------------ detection and assembly (no Docker)
def test_canonical_continuations_are_never_taken_for_whole_programs(problems):
    for tid, p in problems.items():
        assert form_of(p, p.canonical_solution, clean=False) == "completion", tid
        assert form_of(p, p.canonical_solution) == "completion", tid


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_whole_and_fenced_samples_are_recognised_in_every_problem(problems, lang):
    for tid, p in problems.items():
        if p.language != lang:
            continue
        whole = p.prompt + p.canonical_solution
        assert form_of(p, whole) == "whole_function", tid
        assert form_of(p, fenced(p, whole)) == "fenced_whole_function", tid
        assert form_of(p, signature_and_body(p)) == "whole_function", tid
        # a fenced continuation is unwrapped and still continues the prompt
        assert form_of(p, fenced(p, "\n" + p.canonical_solution)) in ("fenced", "fenced_whole_function"), tid


def test_unfence_rules():
    assert unfence("```python\n    return 1\n```\ntext") == ("    return 1\n", True)
    assert unfence("Sure:\n```\nint f() { return 1; }\n```") == ("int f() { return 1; }\n", True)
    assert unfence("no fence") == ("no fence", False)
    # chat mode: the continuation ends with a closing fence; that is not a block to unwrap
    text = "    return 1;\n}\n```\nThis works.\n```cpp\nint main() {}\n```\n"
    assert unfence(text) == (text, False)
    assert unfence("```go\nfunc F() {}\n") == ("func F() {}\n", True)  # no closing fence: to the end


def test_helpers_are_kept_unless_the_sample_defines_them(problems):
    for tid, helper in (("CPP/38", "string encode_cyclic(string s)"), ("JavaScript/38", "const encodeCyclic ="),
                        ("Go/10", "func IsPalindrome(str string) bool"), ("Java/38", "public String encodeCyclic(String s)"),
                        ("Python/38", "def encode_cyclic(s: str)")):
        p = problems[tid]
        lang = LANGUAGES[p.language]
        form, head, code = prepare_sample(lang, p, signature_and_body(p))
        assert form == "whole_function"
        assert lang.assemble(p, head, code).count(helper) == 1, tid  # the prompt's helper is kept
    p = problems["CPP/38"]
    own = "string encode_cyclic(string s){ return s; }\n" + signature_and_body(p)
    _, head, code = prepare_sample(LANGUAGES["cpp"], p, own)
    program = LANGUAGES["cpp"].assemble(p, head, code)
    assert program.count("string encode_cyclic(string s)") == 1 and "return s; }" in program


def test_per_language_whole_program_rules(problems):
    # C++: the sample's main goes (the test has one), its includes stay
    p = problems["CPP/0"]
    text = "#include<vector>\nusing namespace std;\n" + signature_and_body(p) + "int main() { return 0; }\n"
    program = LANGUAGES["cpp"].assemble(p, *prepare_sample(LANGUAGES["cpp"], p, text)[1:])
    assert program.count("int main(") == 1
    # Go: package clause and imports hoisted into the one import block, func main dropped
    p = problems["Go/0"]
    text = 'package main\n\nimport (\n    "fmt"\n    m "math"\n)\n\n' + signature_and_body(p).replace(
        "math.Abs", "m.Abs") + '\nfunc main() {\n    fmt.Println(1)\n}\n'
    form, head, code = prepare_sample(LANGUAGES["go"], p, text)
    program = LANGUAGES["go"].assemble(p, head, code)
    assert form == "whole_function" and program.count("package main") == 1 and "func main()" not in program
    assert '    m "math"\n' in program and '    "fmt"\n' not in program  # fmt was used only by main
    # Java: a public class Solution with its own imports, a class Main of its own, methods only
    p = problems["Java/0"]
    text = ("import java.util.stream.*;\n\npublic class Solution {\n" + signature_and_body(p) + "}\n"
            "public class Main {\n    public static void main(String[] args) { }\n}\n")
    program = LANGUAGES["java"].assemble(p, *prepare_sample(LANGUAGES["java"], p, text)[1:])
    assert "public class Solution" not in program and program.count("class Main") == 1
    assert program.index("import java.util.stream.*;") < program.index("class Solution")
    # Python: an `if __name__ == "__main__":` block is dropped
    p = problems["Python/0"]
    form, head, code = prepare_sample(LANGUAGES["python"], p, signature_and_body(p) + "\nif __name__ == '__main__':\n    print(1)\n")
    assert form == "whole_function" and "__main__" not in code


def test_evalplus_solution_field_is_a_whole_program(tmp_path, problems):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"task_id": "Python/0", "solution": "from typing import List\n\n" + "x = 1\n"}) + "\n"
                    + json.dumps({"task_id": "Python/1", "completion": "    return []\n"}) + "\n")
    a, b = load_samples(path)
    assert a.whole and not b.whole
    # forced: even without the function, the sample is the program (which then fails honestly)
    assert make_job(a, problems["Python/0"]).form == "whole_function"
    assert make_job(b, problems["Python/1"]).form == "completion"


def test_summary_counts_sample_forms_per_language():
    recs = [{"task_id": "CPP/0", "language": "cpp", "status": "passed", "passed": True, "sample_form": f}
            for f in ("completion", "fenced", "whole_function", "fenced_whole_function")]
    s = summarize(recs, ks=(1,))
    assert s["languages"]["cpp"]["sample_forms"] == {"fenced": 2, "whole_function": 2}
    assert s["overall"]["sample_forms"] == {"fenced": 2, "whole_function": 2}


def test_compile_error_detail_is_the_first_error_line():
    def outcome(stderr):
        return {"status": "compile_error", "compile": {"stderr": stderr, "stdout": ""}}
    cpp = "main.cpp: In function 'bool f()':\nmain.cpp:12:5: error: 'x' was not declared\n   12 | x\nmain.cpp:13:1: error: other\n"
    assert compile_error_detail("cpp", outcome(cpp)) == "main.cpp:12:5: error: 'x' was not declared"
    java = "Main.java:7: error: ';' expected\n        return (;\n1 error\n"
    assert compile_error_detail("java", outcome(java)) == "Main.java:7: error: ';' expected"
    go = "# command-line-arguments\nvet: main_test.go:28:24: undeclared name: math\n"
    assert compile_error_detail("go", outcome(go)) == "vet: main_test.go:28:24: undeclared name: math"
    assert compile_error_detail("go", {"status": "failed"}) == ""


# ------------------------------------------------------------------ real Docker
@pytest.mark.docker
def test_whole_function_and_fenced_samples_pass_and_a_wrong_one_fails(problems, data_dir, docker_client):
    from humaneval_x.dataset import load_problems
    problems = {**problems, **load_problems(list(LANGUAGES), data_dir=data_dir)}  # Rust too (not a default)
    jobs, want = [], {}
    for lang in LANGUAGES:
        prefix = LANGUAGES[lang].task_prefix
        for n in PROBLEMS:
            p = problems[f"{prefix}/{n}"]
            cases = {"whole": (p.prompt + p.canonical_solution, "passed"),
                     "fenced": (fenced(p, p.prompt + p.canonical_solution), "passed"),
                     "fenced-signature": (fenced(p, signature_and_body(p)), "passed")}
            if n == 0:
                cases["wrong-whole"] = (p.prompt + WRONG[lang][0][1], "failed")
                if lang in ("cpp", "java", "go"):
                    cases["broken-whole"] = (p.prompt + WRONG[lang][3][1], "compile_error")
            for i, (case, (text, status)) in enumerate(cases.items()):
                job = make_job(Sample(p.task_id, i, text), p)
                assert job.form.endswith("whole_function"), (p.task_id, case)
                jobs.append(job)
                want[(p.task_id, i)] = (case, status)
    results = {}
    Executor().run(jobs, lambda r: results.__setitem__((r["task_id"], r["sample_index"]), r))
    wrong = {k: (want[k][0], want[k][1], r["status"], r["detail"]) for k, r in results.items() if r["status"] != want[k][1]}
    assert len(results) == len(want) and not wrong, wrong
    broken = [r for k, r in results.items() if want[k][0] == "broken-whole"]
    assert len(broken) == 3 and all(r["detail"] and r["sample_form"] == "whole_function" for r in broken), broken
