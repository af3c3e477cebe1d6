import re

import pytest

from humaneval_x.assembly import PYTHON_SENTINEL_READ, assemble_go, go_batch_info, go_used_packages
from humaneval_x.languages import LANGUAGES, get_language, language_of_task, parse_languages


SENTINEL_READ = {"python": "_hx_os.read(0, 256)", "cpp": "fgets(hx_sentinel_, sizeof hx_sentinel_, stdin)",
                 "java": "new java.io.InputStreamReader(System.in)", "js": "readFileSync(0, 'utf8')",
                 "go": '"hxsentinel"'}
SENTINEL_PRINT = {"python": "\n_hx_done()\n", "cpp": "fputs(hx_sentinel_, stdout)", "java": 'System.out.println("\\n" + s)',
                  "js": "\n__hxDone()\n", "go": "hxsentinel.Print()"}


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_the_sentinel_is_read_before_the_program_and_printed_after_the_tests(problems, lang):
    """The sentinel itself is in no program text: the harness's code reads it from stdin before
    the completion's code, and prints it after the last test (execution order is proven by the
    early-exit programs of the self-check and the isolation suite)."""
    for p in problems.values():
        if p.language != lang:
            continue
        prog = LANGUAGES[lang].assemble(p, p.prompt, p.canonical_solution)
        assert "HX_SUITE_DONE" not in prog
        read, done = prog.find(SENTINEL_READ[lang]), prog.rfind(SENTINEL_PRINT[lang])
        assert read >= 0, p.task_id
        if lang in ("python", "js"):  # Java: in the entry class's main; Go: an imported package's init
            assert read < prog.find(p.canonical_solution.strip().splitlines()[0]), p.task_id
        if lang == "cpp":  # after the completion (which cannot name the buffer), before main
            end = prog.find(p.canonical_solution) + len(p.canonical_solution)
            assert len(p.canonical_solution) < end <= read < prog.rfind("int main"), p.task_id
        if lang in ("python", "js"):  # the done call checks it is made at the program's last line
            assert "_HX_DONE_LINE_" not in prog
            assert str(prog.count("\n")) in prog.splitlines()[1 if lang == "python" else 2], p.task_id
        first_test_line = p.test.strip().splitlines()[0].replace("console.assert(", "__hxAssert(")
        assert prog.find(first_test_line) < done, p.task_id


def test_python_program_has_the_original_imports(problems):
    p = problems["Python/0"]
    prog = LANGUAGES["python"].assemble(p, p.prompt, p.canonical_solution)
    assert prog.startswith(PYTHON_SENTINEL_READ.split("_HX_DONE_LINE_")[0])
    assert prog.split("\n", 3)[3].startswith("import math\n")
    assert "import numpy as np\n" in prog and "from typing import *\n" in prog


def test_cpp_adds_only_missing_includes(problems):
    p = problems["CPP/0"]
    prog = LANGUAGES["cpp"].assemble(p, p.prompt, p.canonical_solution)
    assert prog.count("#include<vector>") == 1  # already in the prompt
    assert "#include<climits>" in prog


def test_java_runs_the_suite_through_the_entry_class(problems):
    p = problems["Java/0"]
    prog = LANGUAGES["java"].assemble(p, p.prompt, p.canonical_solution)
    assert "public static void hxMain(String[] args)" in prog
    assert "class HxEntry" in prog and "public static void main(String[] args)" not in prog.split("class HxEntry")[0]


def test_js_asserts_throw_instead_of_printing(problems):
    p = problems["JavaScript/0"]
    prog = LANGUAGES["js"].assemble(p, p.prompt, p.canonical_solution)
    assert "console.assert(" not in prog
    assert "__hxAssert(" in prog and "HX_ASSERTION_FAILED" in prog


def test_go_imports_only_packages_really_used(problems):
    p = problems["Go/0"]
    code = ("    // strings.Split would be nice, and fmt.Println too\n"
            '    s := "sort.Ints(x)"\n    _ = s\n    return math.Abs(numbers[0]) < threshold\n}\n')
    prog = assemble_go(p, p.prompt, code)
    imports = re.search(r"import \((.*?)\)", prog, re.S).group(1)
    assert '"math"' in imports
    for unused in ('"strings"', '"fmt"', '"sort"'):
        assert unused not in imports
    assert "package main" in prog and prog.count("import (") == 1


def test_go_used_packages_last_path_component():
    assert go_used_packages("x := rand.Intn(3); y := md5.Sum(b)", ["math/rand", "crypto/md5", "math"]) == [
        "math/rand", "crypto/md5"]
    assert go_used_packages("a.math.Abs", ["math"]) == []


def test_language_lookup():
    assert get_language("C++").name == "cpp"
    assert get_language("JavaScript").name == "js"
    assert language_of_task("CPP/3").name == "cpp"
    assert parse_languages("python, go") == ("python", "go")
    assert get_language("rust").name == "rust" and language_of_task("Rust/1").name == "rust"
    with pytest.raises(ValueError):
        get_language("cobol")
    with pytest.raises(ValueError):
        language_of_task("Cobol/1")


def test_go_batch_eligibility(problems):
    go = [p for p in problems.values() if p.language == "go"]
    infos = [go_batch_info(assemble_go(p, p.prompt, p.canonical_solution)) for p in go]
    assert all(i is not None and i["test"].startswith("Test") for i in infos)  # every canonical program
    p = problems["Go/0"]
    body = "    return false\n}\n"
    for extra in ("\nvar hidden = 1\n", "\nfunc init() {}\n", "\nfunc TestOther(t *testing.T) {}\n",
                  "\nfunc BenchmarkX(b *testing.B) {}\n",
                  # a comment separates tokens for Go: these are a package-level var and an init
                  "\nvar/**/hidden = f()\nfunc f() int { return 1 }\n", "\nfunc/**/init() {}\n",
                  "\nfunc/*x*/init/*y*/() {}\n",
                  # linkname and unsafe reach past the language's rules
                  '\nimport _ "unsafe"\n//go:linkname hxv hxsentinel.value\nfunc hxv2() {}\n'):
        assert go_batch_info(assemble_go(p, p.prompt, body + extra)) is None, extra
    # braces and keywords inside strings and comments do not count
    assert go_batch_info(assemble_go(p, p.prompt, '    _ = "var init() {"\n    return false\n}\n// var x\n'))


def _go_imports_of(prog):
    return re.search(r"import \((.*?)\)", prog, re.S).group(1)


def test_go_imports_what_the_test_needs_and_keeps_every_import_used(problems):
    # Go/2: only the test uses math (math.Abs); a completion without math must still compile
    p = problems["Go/2"]
    prog = assemble_go(p, p.prompt, "    return number - float64(int(number))\n}\n")
    assert '"math"' in _go_imports_of(prog) and "    _ = math.Abs\n" in prog.split("func TestMain")[1]
    # Go/162: test_setup imports crypto/md5 that the test never uses: kept alive by the reference
    p = problems["Go/162"]
    prog = assemble_go(p, p.prompt, "    return nil\n}\n")
    assert '"crypto/md5"' in _go_imports_of(prog) and "    _ = md5.Sum\n" in prog
    # every imported package but testing/hxsentinel/os is referenced in TestMain
    for p in (x for x in problems.values() if x.language == "go"):
        prog = assemble_go(p, p.prompt, p.canonical_solution)
        for path in re.findall(r'^\s+"([^"]+)"$', _go_imports_of(prog), re.M):
            if path not in ("testing", "hxsentinel"):
                assert f"_ = {path.rsplit('/', 1)[-1]}." in prog, (p.task_id, path)


def test_go_a_name_the_program_declares_at_top_level_is_not_a_package(problems):
    p = problems["Go/0"]
    code = ("    return sort.check(numbers)\n}\n\ntype sorter struct{}\n\nfunc (sorter) check(x []float64) bool { return false }\n\n"
            "var sort = sorter{}\n")
    assert '"sort"' not in _go_imports_of(assemble_go(p, p.prompt, code))
    # a local variable named like a package does not stop the package from being imported
    code = "    strings := []string{}\n    _ = strings\n    return len(fmt.Sprint(numbers)) < 0\n}\n"
    assert '"fmt"' in _go_imports_of(assemble_go(p, p.prompt, code))


def test_go_hoists_a_samples_own_package_clause_and_imports(problems):
    p = problems["Go/0"]
    code = 'package main\nimport s "strings"\nimport "unicode/utf16"\n\nfunc HasCloseElements(numbers []float64, t float64) bool {\n' \
           '    return len(utf16.Encode([]rune(s.TrimSpace("x")))) < 0\n}\n'
    prog = assemble_go(p, "", code)
    imports = _go_imports_of(prog)
    assert prog.count("package main") == 1 and prog.count("import (") == 1 and "import s" not in prog
    assert '    s "strings"\n' in imports and '    "unicode/utf16"\n' in imports
    assert go_batch_info(prog) is not None  # still batchable
