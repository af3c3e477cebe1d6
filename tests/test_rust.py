"""Rust, the sixth language: data, prompt, assembly, stop rule, batching rule (pure), and, with Docker,
the canonical solutions, the wrong programs and hostile programs through the real sandbox."""
import json

import pytest

from humaneval_x import rust
from humaneval_x.dataset import load_manifest, load_problems
from humaneval_x.languages import LANGUAGES, PAPER_LANGUAGES, parse_languages, table_languages
from humaneval_x.prompts import PromptOptions, generation_prompt, parse_pairs


@pytest.fixture(scope="module")
def rust_problems(data_dir):
    return load_problems(["rust"], data_dir=data_dir)


def test_default_language_set_stays_the_papers_five():
    assert parse_languages(None) == parse_languages("all") == PAPER_LANGUAGES == ("python", "cpp", "java", "js", "go")
    assert parse_languages("rust") == ("rust",)
    assert parse_languages("all6") == parse_languages("every") == ("python", "cpp", "java", "js", "go", "rust")
    assert len(parse_pairs(None)) == len(parse_pairs("all")) == 20
    assert len(parse_pairs("all6")) == len(parse_pairs("every")) == 30 and ("rust", "go") in parse_pairs("all6")
    assert table_languages(["python", "go"]) == PAPER_LANGUAGES
    assert table_languages(["python", "rust"]) == tuple(LANGUAGES)


def test_the_language_sets_are_read_from_the_entries(monkeypatch):
    """Nothing outside the plug-in list names a language: the default set, `every`, the pairs, the matrix,
    self-check's wrong programs, the servers' stop strings and the judge service's programs come from the
    entries, so one more entry (here a copy of Rust's outside the paper's set) is everywhere at once."""
    from dataclasses import replace
    from humaneval_x.generation.backend import server_stops
    from humaneval_x.selfcheck import WRONG
    from humaneval_x.serve.runcode import PROGRAMS
    from humaneval_x.sandbox.base import STATUSES
    assert PAPER_LANGUAGES == tuple(n for n, lang in LANGUAGES.items() if lang.paper) and not LANGUAGES["rust"].paper
    assert parse_languages("every") == parse_languages("all6") == tuple(LANGUAGES)
    for name, lang in LANGUAGES.items():
        assert WRONG[name] == list(lang.wrong_programs) and len(lang.wrong_programs) >= 5, name
        assert {status for _, _, status in lang.wrong_programs} <= set(STATUSES), name
        assert len(lang.server_stops) <= 4 and PROGRAMS[name] == lang.plain_program, name
    assert server_stops(("Go/0", "")) == ["\nfunc main("] and server_stops(("Rust/0", "python")) == []
    extra = replace(LANGUAGES["rust"], name="rust2", task_prefix="Rust2", display="Rust2", aliases=())
    monkeypatch.setitem(LANGUAGES, "rust2", extra)
    assert parse_languages("every")[-1] == "rust2" and parse_languages(None) == PAPER_LANGUAGES
    assert len(parse_pairs("every")) == 42 and ("rust2", "python") in parse_pairs("every")
    assert table_languages(["python", "rust2"]) == tuple(LANGUAGES)
    from humaneval_x.summary import summarize
    rec = {"task_id": "Rust2/0", "language": "rust2", "sample_index": 0, "passed": True, "status": "passed",
           "source_language": "python"}
    s = summarize([rec], ks=(1,))
    assert s["language_set"] == ["python", "rust2"] and list(s["translation_matrix"]["pass@1"])[-1] == "rust2"


def test_manifest_pins_the_rust_file(data_dir):
    from humaneval_x.dataset import verify_data_dir
    from pathlib import Path
    assert load_manifest()["files"]["rust"]["sha256"] == \
        "ae5cabbbfc8fe25244a608b04f09ac3b324c645ac969dfc033756c12f0f9924c"
    assert verify_data_dir(Path(data_dir))["rust"] == "ok"


def test_prompt_is_upstreams(rust_problems, data_dir):
    import gzip
    from pathlib import Path
    with gzip.open(Path(data_dir, "humaneval_rust.jsonl.gz"), "rt") as f:
        rec = json.loads(f.readline())
    p = rust_problems["Rust/0"]
    assert p.prompt == "\nfn main(){ \n } \n" + rec["declaration"] + rec["prompt"]
    assert p.extra["docstring"] == rec["prompt"]
    assert generation_prompt(p, PromptOptions()).startswith("// language: Rust\n\nfn main(){")


def test_errata_make_every_prompt_completable(rust_problems):
    """After errata-v1 every canonical solution is one function body that the stop rule cuts exactly at
    its end, but for two whose own helpers follow; Rust/32's test is out of its comment."""
    rest = {tid for tid, p in rust_problems.items()
            if rust.stop(p.canonical_solution) is None
            or p.canonical_solution[rust.stop(p.canonical_solution):].strip()}
    assert rest == {"Rust/137", "Rust/145"}
    assert rust.test_module("Rust/32", rust_problems["Rust/32"].test)[1] == ("test_poly",)


def test_original_rust32_runs_no_test(data_dir):
    p = load_problems(["rust"], data_dir=data_dir, variant="original")["Rust/32"]
    program = LANGUAGES["rust"].assemble(p, p.prompt, p.canonical_solution)
    assert "let hx_tests: &[(&str, fn())] = &[\n    ];" in program  # as upstream: nothing runs, it passes


def test_lexer_and_stop_rule():
    text = ("    let s: &'static str = \"}\";\n    let c = '}';\n    let r = r#\"}\"#;\n"
            "    /* } /* } */ } */\n    let b = b'}';\n    fn f<'a>(x: &'a str) -> &'a str { x }\n    1\n}\nfn main() {}")
    cut = rust.stop(text)
    assert text[:cut].endswith("    1\n}")
    assert rust.clean("    x\n}\n\n#[cfg(test)]\nmod tests {}\n") == "    x\n}\n"
    assert rust.clean("    let x = 1;\n    x") == "    let x = 1;\n    x\n"  # never closed: kept


def test_clean_keeps_the_helpers_written_after_the_function():
    """As for the other languages (humaneval_x/cleaning.py): the complete top-level functions after the
    function that it uses, transitively, in order, with their attributes and qualifiers; not main, not
    the tests, not prose, not an unused or unfinished function."""
    text = ("    let x = helper(1) + other;\n    x\n}\n\nHere is a helper:\n#[inline]\n"
            "pub(crate) const fn helper(y: i32) -> i32 {\n    twice(y)\n}\n\n/// doubles\n"
            "fn twice(z: i32) -> i32 { let s = \"unused()\"; 2 * z }\nfn unused() {}\n"
            "fn main() { println!(\"{}\", helper(2)); }\n#[cfg(test)]\nmod tests {\n    #[test]\n"
            "    fn t() { helper(3); }\n}\nunsafe extern \"C\" fn cut(x: i32) -> i32 {\n    x")
    assert rust.clean(text) == ("    let x = helper(1) + other;\n    x\n}\n\n#[inline]\n"
                                "pub(crate) const fn helper(y: i32) -> i32 {\n    twice(y)\n}\n\n"
                                "fn twice(z: i32) -> i32 { let s = \"unused()\"; 2 * z }\n")
    # a name only in a comment or a literal uses nothing; a generic helper and one passed by name are used
    assert rust.clean("    // g()\n    \"g()\".len()\n}\nfn g() {}\n") == "    // g()\n    \"g()\".len()\n}\n"
    assert rust.clean("    v.sort_by(cmp);\n    v\n}\nfn cmp<T: Ord>(a: &T, b: &T) -> std::cmp::Ordering { a.cmp(b) }\n") \
        == "    v.sort_by(cmp);\n    v\n}\n\nfn cmp<T: Ord>(a: &T, b: &T) -> std::cmp::Ordering { a.cmp(b) }\n"
    # `unsafe extern "C"` and `pub(in crate::x)` stay with their function; a `fn` word in the prose does not
    kept = rust.clean("    a() + b()\n}\nwrite fn a( like this:\npub(in crate) unsafe fn a() -> i32 { 1 }\n"
                      "some text extern \"C\" fn b() -> i32 { 2 }\n")
    assert kept == ("    a() + b()\n}\n\npub(in crate) unsafe fn a() -> i32 { 1 }\n\nextern \"C\" fn b() -> i32 { 2 }\n")


def test_clean_is_idempotent_on_canonical_solutions(rust_problems):
    L = LANGUAGES["rust"]
    for p in rust_problems.values():
        once = L.clean(p.canonical_solution, prompt=p.prompt)
        assert L.clean(once, prompt=p.prompt) == once, p.task_id


def test_canonical_helpers_after_the_function_are_kept(rust_problems):
    """Rust/145's and Rust/137's canonical solutions define helpers after the function: as a samples file
    gives them (cleaned), the helpers stay (the cut version called undefined functions: compile_error)."""
    from humaneval_x.execute import make_job
    from humaneval_x.samples import Sample
    for tid, helpers in (("Rust/145", ["pub fn sum_of_digits(n: i32) -> i32 {"]),
                         ("Rust/137", ["fn Any_to_f64(a: &dyn Any) -> f64 {"])):
        p = rust_problems[tid]
        job = make_job(Sample(tid, 0, p.canonical_solution), p)
        for h in helpers:
            assert h in job.cleaned and job.program.count(h) == 1, (tid, job.cleaned)


def test_a_helper_the_prompt_defines_is_never_defined_again(rust_problems):
    """Rust/38's prompt defines encode_cyclic before decode_cyclic (errata): a completion that writes it
    again after the function is cut as before (a second definition is error E0428)."""
    from humaneval_x.execute import make_job
    from humaneval_x.samples import Sample
    again = ("    encode_cyclic(&encode_cyclic(s))\n}\n\npub fn encode_cyclic(s: &str) -> String {\n"
             "    s.to_string()\n}\n")
    job = make_job(Sample("Rust/38", 0, again), rust_problems["Rust/38"])
    assert job.cleaned == "    encode_cyclic(&encode_cyclic(s))\n}\n"
    assert job.program.count("fn encode_cyclic(") == 1


@pytest.mark.parametrize("hostile", [
    "    f0(x)\n}\n" + "".join(f"fn f{i}(x: i32) -> i32 {{ f{i + 1}(x) }}\n" for i in range(20000)),
    "    a() + b()\n}\n" + "#[" * 200000 + " fn a() {}\n",
    "    a() + b()\n}\n" + "]" * 200000 + " fn a() {}\n" + "pub(" * 50000 + "fn b() {}\n",
    "    a() + b()\n}\n" + "pub " * 100000 + "fn a() {}\n" + "fn " * 100000 + "{}\n",
    "    a() + b()\n}\n" + ("fn a(" * 20000 + "{};") * 10 + "'a " * 100000 + "r#\"" * 50000,
])
def test_keeping_helpers_stays_linear(hostile):
    import time
    t0 = time.process_time()
    out = rust.clean(hostile)
    assert time.process_time() - t0 < 5
    if hostile.startswith("    f0"):
        assert out.count("\n\nfn f") == 20000  # f0..f19999, each used by the one before


def test_assembly(rust_problems):
    p = rust_problems["Rust/0"]
    program = LANGUAGES["rust"].assemble(p, p.prompt, p.canonical_solution)
    assert "fn main(){ \n }" not in program  # upstream's empty main is replaced by the harness's
    assert "#[cfg(test)]" not in program and "#[test]" not in program
    assert "pub(crate) fn test_has_close_elements()" in program
    assert program.rstrip().endswith("::std::println!(\"\\n{}\", hx_sentinel.trim());\n}")
    assert rust.batch_info(program) == {"main": program.rfind("\nfn main() {\n")}


@pytest.mark.parametrize("code", [
    "    #[no_mangle] pub extern \"C\" fn x() {}\n    true\n}\n",
    "    true\n}\n#[link_section = \".init_array\"]\n#[used]\nstatic I: extern \"C\" fn() = f;\nextern \"C\" fn f() {}\n",
    "    true\n}\n#[global_allocator]\nstatic A: std::alloc::System = std::alloc::System;\n",
    "    crate::has_close_elements(numbers, threshold)\n}\n",
    "    println!(\"{}\", module_path!());\n    true\n}\n",
    "    true\n}\nmod m { fn g() { super::super::x(); } }\n",
    "    true\n}\n#![allow(unused)]\n",
    "    true\n}\n#[cfg_attr(all(), no_mangle)]\npub fn y() {}\n",
])
def test_batching_refuses_what_could_reach_a_neighbour(rust_problems, code):
    p = rust_problems["Rust/0"]
    assert rust.batch_info(LANGUAGES["rust"].assemble(p, p.prompt, code)) is None


def test_whole_function_sample(rust_problems):
    p = rust_problems["Rust/0"]
    sample = ("```rust\nuse std::collections::HashMap;\n\nfn has_close_elements(numbers: Vec<f32>, threshold: f32) -> bool {\n"
              "    let _m: HashMap<i32, i32> = HashMap::new();\n    false\n}\n\nfn main() {}\n\n"
              "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n```\n")
    from humaneval_x.assembly import prepare_sample
    form, head, code = prepare_sample(LANGUAGES["rust"], p, sample)
    assert form == "fenced_whole_function"
    assert "fn main" not in code and "mod tests" not in code and "#[cfg(test)]" not in code
    assert "pub use std::{slice::Iter" in head and "use hx_prompt_uses::*;" in head


@pytest.mark.docker
@pytest.mark.slow
def test_self_check_rust(data_dir, docker_client):
    """164/164 canonical solutions (with repeats: no flip) and every wrong Rust program as expected."""
    from humaneval_x.selfcheck import WRONG, format_report, run_self_check
    report = run_self_check(["rust"], data_dir=data_dir, show_progress=False)
    r = report["languages"]["rust"]
    assert report["ok"], format_report(report)
    assert r["canonical_passed"] == r["canonical_total"] == 164
    assert r["wrong_as_expected"] == r["wrong_total"] == len(WRONG["rust"])


def test_runner_batch_parts():
    """The runner's Rust batch module, pure parts: the crate's layout, its rustc line, which members
    rustc's JSON messages name (a message that names none sends every member alone)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runners"))
    from hxrunner.langs import BATCH_BUILDERS
    from hxrunner.langs import rust as rb
    assert "rust" in BATCH_BUILDERS
    argv = rb.batch_argv(list(rust.fast_compile()))
    assert argv[-1] == "batch.rs" and argv[argv.index("-o") + 1] == "batch"
    assert argv[argv.index("--error-format") + 1] == "json" and argv[argv.index("--crate-name") + 1] == "batch"
    assert rb.batch_argv(["go", "build"]) is None
    source, lines = rb.crate_source({0: "fn a() {}\npub(crate) fn main() {}", 3: "fn b() {}\npub(crate) fn main() {}"}, "hxbX")
    text = source.splitlines()
    assert text[lines[0][0] - 1] == "mod hxbX_0 {" and text[lines[3][0] - 1] == "mod hxbX_3 {"
    assert "hxbX_3::main()" in text[lines[3][2] - 1]
    msg = lambda line: json.dumps({"level": "error", "message": "x", "spans": [{"file_name": "batch.rs", "line_start": line}]})
    assert rb.named(msg(lines[3][0] + 1), lines) == ({3}, True)
    assert rb.named(msg(lines[0][2]), lines) == ({0}, True)  # the dispatcher's line of member 0
    nowhere = json.dumps({"level": "error", "message": "linking with `cc` failed", "spans": []})
    assert rb.named(nowhere, lines) == (set(), False)
    aborting = json.dumps({"level": "error", "message": "aborting due to previous error", "spans": []})
    assert rb.named(msg(2) + "\n" + aborting, lines) == ({0}, True)


def test_summary_records_the_language_set_and_the_gate_refuses_another():
    from pathlib import Path
    from humaneval_x.gate import GateInputError, check_comparable
    from humaneval_x.runs import Run
    from humaneval_x.summary import format_table, summarize

    def rec(tid, lang, passed, src=None):
        r = {"task_id": tid, "language": lang, "sample_index": 0, "passed": passed,
             "status": "passed" if passed else "failed"}
        return dict(r, source_language=src) if src else r
    five = summarize([rec("Python/0", "python", True), rec("Go/0", "go", False)], ks=(1,))
    six = summarize([rec("Python/0", "python", True), rec("Go/0", "go", False), rec("Rust/0", "rust", True)], ks=(1,))
    assert five["language_set"] == ["python", "go"] and six["language_set"] == ["python", "go", "rust"]
    with pytest.raises(GateInputError, match="different languages"):
        check_comparable(Run(Path("a"), dict(five, dataset_variant="errata-v2")),
                         Run(Path("b"), dict(six, dataset_variant="errata-v2")), ["overall"])
    trans = summarize([rec("Rust/0", "rust", True, "python"), rec("Python/0", "python", False, "rust")], ks=(1,))
    matrix = trans["translation_matrix"]["pass@1"]
    assert list(matrix) == ["python", "cpp", "java", "js", "go", "rust"] and matrix["python"]["rust"] == 1.0
    assert "Rust" in format_table(trans)
    paper = summarize([rec("Go/0", "go", True, "python")], ks=(1,))
    assert list(paper["translation_matrix"]["pass@1"]) == ["python", "cpp", "java", "js", "go"]
