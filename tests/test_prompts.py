
import pytest

from humaneval_x.errors import HarnessError
from humaneval_x.prompts import (PromptOptions, generation_items, generation_prompt, parse_pairs,
                                 translation_items, translation_prompt)

NAMES = {"python": "Python", "cpp": "C++", "java": "Java", "js": "JavaScript", "go": "Go"}


def test_generation_prompt_tag_and_strip(problems):
    p = problems["CPP/4"]
    assert generation_prompt(p) == "// language: C++\n" + p.prompt
    assert generation_prompt(p, PromptOptions(tag=False)) == p.prompt
    assert generation_prompt(p, PromptOptions(tag=False, strip=True)) == p.prompt.strip()
    assert generation_prompt(problems["Python/4"]).startswith("# language: Python\n")


def test_all_20_pairs_follow_the_paper_format(problems):
    pairs = parse_pairs("all")
    assert len(pairs) == 20 and len(set(pairs)) == 20
    items = translation_items(problems, pairs)
    assert len(items) == 20 * 164
    for item in items[::37]:
        s, t = item.source_language, item.language
        n = int(item.task_id.split("/")[1])
        src = next(p for p in problems.values() if p.language == s and p.number == n)
        tgt = problems[item.task_id]
        assert tgt.language == t
        expected = (f"code translation\n{NAMES[s]}:\n{src.declaration}\n{src.canonical_solution.rstrip()}\n"
                    f"{NAMES[t]}:\n{tgt.declaration}")
        assert item.text == expected
        assert item.text.endswith(tgt.declaration)  # the completion continues the target declaration
        # the source docstring is not given
        doc = src.extra.get("docstring") or ""
        if doc.strip():
            assert doc.strip() not in item.text


def test_target_tag_option(problems):
    text = translation_prompt(problems["Python/3"], problems["Go/3"], target_tag=True)
    assert text.startswith("// language: Go\ncode translation\nPython:\n")


def test_python_142_declaration_is_fixed_by_errata_not_by_code(problems):
    text = translation_prompt(problems["Java/142"], problems["Python/142"])
    assert text.endswith("Python:\ndef sum_squares(lst):\n")


def test_parse_pairs():
    assert parse_pairs("python-cpp, Java-Go") == [("python", "cpp"), ("java", "go")]
    assert parse_pairs("c++-javascript") == [("cpp", "js")]
    for bad in ("python", "python-python", "python-cobol", "rust-rust"):
        with pytest.raises(HarnessError):
            parse_pairs(bad)


def test_generation_items_limit_and_order(problems):
    items = generation_items(problems, ["go", "python"], limit=3)
    assert [i.task_id for i in items] == ["Python/0", "Python/1", "Python/2", "Go/0", "Go/1", "Go/2"]
