"""Answer extraction for chat and reasoning models (humaneval_x/extract.py): reasoning removed first,
the block that defines the entry point taken, both fence styles, usage blocks skipped, the whole
answer kept beside the code. Hand-written answers in the shapes served models give."""
import pytest

from humaneval_x.assembly import prepare_sample, unfence
from humaneval_x.execute import Executor, make_job, result_record
from humaneval_x.extract import answer_code, fenced_blocks, is_usage_block, strip_reasoning
from humaneval_x.generation.backend import GenerationRequest, SamplingParams
from humaneval_x.generation.openai_backend import OpenAIBackend, _Job, continuation_from_answer
from humaneval_x.languages import LANGUAGES
from humaneval_x.samples import Sample, load_samples
from humaneval_x.selfcheck import WRONG
from test_other_tools import FENCE_TAG, signature_and_body

PREFIX = {"python": "Python", "cpp": "CPP", "java": "Java", "js": "JavaScript", "go": "Go", "rust": "Rust"}


def draft_then_final(tag: str, draft: str, final: str) -> str:
    """A reasoning model's answer: a draft in the thinking, the final answer after it."""
    return (f"<think>\nThe user wants the function. Let me write a first version.\n```{tag}\n{draft}```\n"
            f"Wait, let me check that against the examples... I will write it again.\n</think>\n\n"
            f"Here is the solution:\n\n```{tag}\n{final}```\n\nIt checks every pair once.\n")


def code_of(p, text):
    return prepare_sample(LANGUAGES[p.language], p, text)[2]


def right_and_wrong(p):
    return signature_and_body(p), p.prompt + WRONG[p.language][0][1]


# ------------------------------------------------------------------ no Docker
@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_a_draft_in_the_thinking_is_never_the_answer(problems, data_dir, lang):
    from humaneval_x.dataset import load_problems
    p = (load_problems(["rust"], data_dir=data_dir) if lang == "rust" else problems)[f"{PREFIX[lang]}/0"]
    right, wrong = right_and_wrong(p)
    tag = FENCE_TAG[lang]
    assert code_of(p, draft_then_final(tag, wrong, right)) == code_of(p, f"```{tag}\n{right}```\n")
    assert code_of(p, draft_then_final(tag, right, wrong)) == code_of(p, f"```{tag}\n{wrong}```\n")


def test_reasoning_forms_of_served_models():
    final = "```python\ndef f():\n    return 2\n```"
    draft = "```python\ndef f():\n    return 1\n```"
    for opening, closing in (("<think>", "</think>"), ("<THINK>", "</THINK>"), ("<thinking>", "</thinking>"),
                             ("<reasoning>", "</reasoning>"), ("[THINK]", "[/THINK]"), ("◁think▷", "◁/think▷"),
                             ("<seed:think>", "</seed:think>"), ("<|begin_of_thought|>", "<|end_of_thought|>")):
        assert answer_code(f"{opening}\n{draft}\n{closing}\n{final}")[0] == "def f():\n    return 2\n", opening
    # the template opened the thinking: only its end is in the answer
    assert answer_code(f"okay, so:\n{draft}\n</think>\n\n{final}")[0] == "def f():\n    return 2\n"
    # cut off while thinking: no answer at all (the draft is not scored)
    assert answer_code(f"<think>\nfirst try:\n{draft}\nhmm")[0] == ""
    assert strip_reasoning("  <think>\nall of it") == "  "
    # Sky-T1 / OpenThoughts: the solution markers go, the solution stays
    assert strip_reasoning("<|begin_of_thought|>x<|end_of_thought|><|begin_of_solution|>y<|end_of_solution|>") == "y"
    # gpt-oss harmony: only the final channel is the answer
    harmony = (f"<|channel|>analysis<|message|>{draft}<|end|><|start|>assistant<|channel|>final<|message|>"
               f"{final}<|return|>")
    assert answer_code(harmony)[0] == "def f():\n    return 2\n"
    assert strip_reasoning("<|channel|>analysis<|message|>thinking only") == ""


def test_tilde_fences_and_long_fences(problems):
    p = problems["Python/0"]
    right = signature_and_body(p)
    assert prepare_sample(LANGUAGES["python"], p, f"~~~python\n{right}~~~\n")[0] == "fenced_whole_function"
    assert unfence("~~~\nint f() { return 1; }\n~~~") == ("int f() { return 1; }\n", True)
    # a four-backtick fence holds a three-backtick line; a ``` line does not close ~~~
    assert fenced_blocks("````md\n```\nx\n````\n")[0].code == "```\nx\n"
    assert fenced_blocks("~~~\na\n```\nb\n~~~")[0].code == "a\n```\nb\n"
    assert [b.code for b in fenced_blocks("  ```py\n  x = 1\n    y\n  ```")] == ["x = 1\n  y\n"]  # indented fence


def test_a_doctest_or_usage_block_before_the_solution_is_not_the_solution(problems):
    p = problems["Python/0"]
    right = signature_and_body(p)
    doctest = ">>> has_close_elements([1.0, 2.0, 3.0], 0.5)\nFalse\n"
    expected = code_of(p, f"```python\n{right}```")
    assert code_of(p, f"Usage:\n```python\n{doctest}```\nSolution:\n```python\n{right}```") == expected
    # body-only solutions (no definition to recognise) after a usage block
    body = "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    assert code_of(p, f"For example:\n```python\n{doctest}```\nComplete it with:\n```python\n{body}```") == body
    assert code_of(p, f"```python\nprint(has_close_elements([1.0], 0.5))\nassert True\n```\n```python\n{body}```") == body
    assert code_of(p, f"```console\n$ python main.py\nFalse\n```\n```python\n{body}```") == body
    for usage in (doctest, "print(f(1))\n", "console.log(f(1));\n", "assert f(1) == 2\n"):
        assert is_usage_block(fenced_blocks(f"```\n{usage}```")[0]), usage


def test_ties_the_last_block_that_defines_the_entry_point(problems):
    p = problems["Python/0"]
    right, wrong = right_and_wrong(p)
    # a first attempt and a revised one in the final answer: the revised (last) one is the answer
    text = f"First attempt:\n```python\n{wrong}```\nA corrected version:\n```python\n{right}```\nDone."
    assert code_of(p, text) == code_of(p, f"```python\n{right}```")
    # a usage block after the solution (calls, no definition) does not displace it
    text = f"```python\n{right}```\nExample:\n```python\nprint(has_close_elements([1.0], 0.5))\n```"
    assert code_of(p, text) == code_of(p, f"```python\n{right}```")


def test_continuations_closed_by_a_fence_are_kept_and_prose_before_a_bare_fence_is_prose(problems):
    text = "    return 1;\n}\n```\nThis works.\n```cpp\nint main() {}\n```\n"
    assert unfence(text) == (text, False)
    p = problems["Python/0"]
    right = signature_and_body(p)
    assert prepare_sample(LANGUAGES["python"], p, f"Here is the fixed version\n```\n{right}```\n")[0] \
        == "fenced_whole_function"


def test_openai_chat_answers_use_the_same_rules():
    prompt = 'def add(a, b):\n    """Add two numbers."""\n'
    answer = ("<think>\n```python\ndef add(a, b):\n    return a - b\n```\n</think>\nDoctest:\n```python\n"
              ">>> add(1, 2)\n3\n```\n~~~python\ndef add(a, b):\n    return a + b\n~~~\n")
    assert continuation_from_answer(prompt, answer, "python") == "    return a + b\n"


def test_reasoning_content_is_never_code_and_is_kept():
    backend = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", log=lambda m: None)
    req = GenerationRequest(key=("Python/0", ""), prompt="def add(a, b):\n", sample_indices=(0,), stop=None,
                            messages=[{"role": "user", "content": "complete"}])
    reasoning = "```python\ndef add(a, b):\n    return a - b\n```"
    out = []
    for content in ("", None, "```python\ndef add(a, b):\n    return a + b\n```"):
        reply = {"choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"content": content, "reasoning_content": reasoning}}]}
        backend._deliver(_Job(req, (0,), "python"), reply, out.append)
    assert [c.text for c in out] == ["", "", "    return a + b\n"]
    assert all(c.reasoning == reasoning for c in out) and out[2].answer.startswith("```python")


def test_the_whole_answer_is_kept_beside_the_extracted_code(tmp_path, problems):
    import json
    p = problems["Python/0"]
    right, wrong = right_and_wrong(p)
    answer = draft_then_final("python", wrong, right)
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"task_id": "Python/0", "generation": answer}) + "\n"
                    + json.dumps({"task_id": "Python/1", "generation": "    return []\n",
                                  "chat_answer": "```python\n    return []\n```", "chat_reasoning": "hm"}) + "\n")
    a, b = load_samples(path)
    rec = result_record(make_job(a, p), {"status": "failed"}, False)
    assert rec["generation"] == answer and rec["cleaned"] == code_of(p, f"```python\n{right}```")
    rec = result_record(make_job(b, problems["Python/1"]), {"status": "failed"}, False)
    assert rec["answer"] == "```python\n    return []\n```" and rec["reasoning"] == "hm"


# ------------------------------------------------------------------ real Docker
@pytest.mark.docker
def test_reasoning_answers_are_scored_from_the_final_answer(problems, data_dir, docker_client):
    from humaneval_x.dataset import load_problems
    problems = {**problems, **load_problems(list(LANGUAGES), data_dir=data_dir)}  # Rust too (not a default)
    jobs, want = [], {}
    for lang in LANGUAGES:
        p = problems[f"{PREFIX[lang]}/0"]
        right, wrong = right_and_wrong(p)
        tag = FENCE_TAG[lang]
        for i, (text, status) in enumerate(((draft_then_final(tag, wrong, right), "passed"),
                                            (draft_then_final(tag, right, wrong), "failed"),
                                            (draft_then_final(tag, right, right).replace("```", "~~~"), "passed"))):
            jobs.append(make_job(Sample(p.task_id, i, text), p))
            want[(p.task_id, i)] = status
    got = {}
    Executor(workers=2).run(jobs, lambda r: got.__setitem__((r["task_id"], r["sample_index"]), r["status"]))
    assert got == want
