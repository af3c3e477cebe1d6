import pytest

from humaneval_x import cleaning
from humaneval_x.clike import brace_depth, closing_index


def test_python_stop_at_first_unindented_line():
    text = "    x = 1\n\n    return x\n\ndef other():\n    pass\n"
    assert cleaning.python_clean(text) == "    x = 1\n\n    return x\n"
    for start in ("if __name__", "print(", "# comment", "class A:"):
        assert cleaning.python_stop(f"    return 1\n{start}") == len("    return 1")
    assert cleaning.python_stop("    return 1\n    ") is None


def test_cpp_stop_ignores_braces_in_strings_chars_and_comments():
    text = ('    string s = "}}}";  // } not here\n    char c = \'}\';\n    /* } } */\n'
            '    if (x) { return s; }\n    return "{";\n}\nint main() { }\n')
    cut = cleaning.cpp_stop(text)
    assert text[:cut].endswith('return "{";\n}')
    assert cleaning.cpp_clean(text) == text[:cut] + "\n"


def test_js_template_literals_and_go_raw_strings_are_strings():
    js = "  const t = `}${x}`\n  return t\n}\nconsole.log(1)\n"
    assert cleaning.js_clean(js) == "  const t = `}${x}`\n  return t\n}\n"
    go = "    s := `}`\n    return s\n}\n\nfunc main() {\n}\n"
    assert cleaning.go_clean(go) == "    s := `}`\n    return s\n}\n"


def test_go_cuts_a_main_function():
    text = "    return 1\n}\nfunc main() {\n    fmt.Println(1)\n}\n"
    assert cleaning.go_clean(text) == "    return 1\n}\n"


def test_java_closes_method_and_class():
    full = "        return 1;\n    }\n}\n\npublic class Main {\n    public static void main(String[] a) {}\n}\n"
    assert cleaning.java_clean(full) == "        return 1;\n    }\n}\n"
    # the model stopped after the method: the class is closed for it
    only_method = "        if (x) { return 1; }\n        return 2;\n    }\n    public static void main(String[] a) {\n"
    cleaned = cleaning.java_clean(only_method)
    assert cleaned.rstrip().endswith("}") and brace_depth(cleaned, False) == -2
    # truncated inside the method: method and class are closed
    assert brace_depth(cleaning.java_clean("        int x = 1;\n        if (x > 0) {\n"), False) == -2


def test_incomplete_completion_keeps_up_to_last_brace():
    assert cleaning.cpp_clean("    if (a) { b(); }\n    return") == "    if (a) { b(); }\n"
    assert closing_index("{ } {", 1) is None


@pytest.mark.parametrize("lang", ["python", "cpp", "java", "js", "go"])
def test_clean_is_idempotent_on_canonical_solutions(problems, lang):
    from humaneval_x.languages import LANGUAGES
    L = LANGUAGES[lang]
    for p in problems.values():
        if p.language == lang:
            once = L.clean(p.canonical_solution)
            assert L.clean(once) == once
