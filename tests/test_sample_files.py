"""Other tools' sample files: bigcode-evaluation-harness generations, byte-order marks, gzip by
content, conflicting fields, translation pairs checked, translation and generation reported apart."""
import gzip
import json

import pytest

from humaneval_x.cli import main
from humaneval_x.errors import HarnessError
from humaneval_x.execute import Executor, make_job
from humaneval_x.samples import load_samples
from humaneval_x.summary import format_table, summarize


def write_jsonl(path, records, prefix=""):
    path.write_text(prefix + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def bigcode_file(path, problems, prefix, count=3):
    """generations.json as bigcode-evaluation-harness writes it: per problem, a list of whole programs."""
    data = [[problems[f"{prefix}/{i}"].prompt + problems[f"{prefix}/{i}"].canonical_solution] * 2
            for i in range(count)]
    path.write_text(json.dumps(data))
    return path


def one_line_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1, err
    return err


# ------------------------------------------------------------------ bigcode-evaluation-harness
def test_bigcode_generations_are_read_with_the_language_given_or_named(tmp_path, problems):
    path = bigcode_file(tmp_path / "generations.json", problems, "CPP")
    samples = load_samples(path, language="cpp")  # detected: a JSON list
    assert [(s.task_id, s.sample_index) for s in samples] == [(f"CPP/{i}", j) for i in range(3) for j in range(2)]
    assert all(s.whole for s in samples)
    assert {make_job(s, problems[s.task_id]).form for s in samples} == {"whole_function"}
    assert load_samples(path, format="bigcode", language="C++")[0].task_id == "CPP/0"
    named = bigcode_file(tmp_path / "generations_humanevalsynthesize-go.json", problems, "Go")
    assert load_samples(named)[0].task_id == "Go/0"
    with pytest.raises(HarnessError, match="--language"):
        load_samples(path)
    with pytest.raises(HarnessError, match="--format must be one of"):
        load_samples(path, format="csv")
    (tmp_path / "bad.json").write_text('[["ok"], "not a list"]')
    with pytest.raises(HarnessError, match="list of lists"):
        load_samples(tmp_path / "bad.json", language="go")


def test_bigcode_without_a_language_is_one_line_exit_2(tmp_path, problems, capsys):
    path = bigcode_file(tmp_path / "generations.json", problems, "Python")
    err = one_line_exit_2(capsys, ["evaluate-samples", str(path)])
    assert "bigcode" in err and "--language" in err and "rust" in err
    err = one_line_exit_2(capsys, ["evaluate-samples", str(path), "--language", "cobol"])
    assert "unknown language" in err
    assert not (tmp_path / "generations.eval").exists()


# ------------------------------------------------------------------ encodings and fields
def test_an_unknown_task_or_a_broken_line_is_one_line_and_leaves_no_folder(tmp_path, problems, data_dir, capsys):
    from humaneval_x.evaluate import evaluate_samples
    good = {"task_id": "Python/0", "generation": problems["Python/0"].canonical_solution}
    path = write_jsonl(tmp_path / "s.jsonl", [good, {"task_id": "Python/999", "generation": "    return 1\n"}])
    with pytest.raises(HarnessError, match="Python/999: no such problem"):  # no engine needed: a factory is given
        evaluate_samples(path, data_dir=data_dir, sandbox_factory=lambda *a, **k: None, log=lambda *a: None)
    assert not (tmp_path / "s.eval").exists()  # a folder pinned to settings by a run that never started
    broken = tmp_path / "b.jsonl"
    broken.write_text(json.dumps(good) + "\n" + '{"task_id": "Python/1", "generation": "x\n' + json.dumps(good) + "\n")
    err = one_line_exit_2(capsys, ["evaluate-samples", str(broken)])
    assert err.endswith("b.jsonl:2: not a JSON object (Unterminated string starting at column 39)"), err


def test_byte_order_marks_are_dropped(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "Python/0", "generation": "\ufeff    return 1\n"},
                                              {"task_id": "Python/1", "generation": "    return 2\n"}], prefix="\ufeff")
    a, b = load_samples(path)
    assert a.generation == "    return 1\n" and b.generation == "    return 2\n"
    # two files joined: a mark at the start of a line too
    joined = tmp_path / "joined.jsonl"
    joined.write_bytes(path.read_bytes() + "\ufeff".encode() + b'{"task_id": "Python/2", "completion": "x"}\n')
    assert [s.task_id for s in load_samples(joined)] == ["Python/0", "Python/1", "Python/2"]


def test_gzip_is_detected_by_content_whatever_the_name(tmp_path):
    raw = json.dumps({"task_id": "Go/0", "generation": "\treturn false\n}\n"}).encode() + b"\n"
    for name in ("s.jsonl", "s.jsonl.gz", "s.txt"):
        (tmp_path / name).write_bytes(gzip.compress(raw))
        assert load_samples(tmp_path / name)[0].task_id == "Go/0", name
    (tmp_path / "plain.jsonl.gz").write_bytes(raw)  # named .gz, not compressed
    assert load_samples(tmp_path / "plain.jsonl.gz")[0].task_id == "Go/0"


def test_generation_and_completion_that_differ_are_refused(tmp_path, capsys):
    same = write_jsonl(tmp_path / "same.jsonl", [{"task_id": "Python/0", "generation": "x", "completion": "x"}])
    assert load_samples(same)[0].generation == "x"
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "Python/0", "generation": "    return 1\n",
                                               "completion": "    return 2\n"}])
    with pytest.raises(HarnessError, match="'generation' and 'completion' differ"):
        load_samples(path)
    err = one_line_exit_2(capsys, ["evaluate-samples", str(path)])
    assert "s.jsonl:1" in err


def test_a_translation_pair_needs_two_languages(tmp_path):
    path = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "CPP/3", "generation": "x", "source_language": "C++"}])
    with pytest.raises(HarnessError, match="needs two different languages"):
        load_samples(path)
    ok = write_jsonl(tmp_path / "ok.jsonl", [{"task_id": "CPP/3", "generation": "x", "source_language": "go"}])
    assert load_samples(ok)[0].source_language == "go"


# ------------------------------------------------------------------ translation and generation apart
def test_translation_and_generation_samples_are_reported_apart():
    gen = [{"task_id": "CPP/0", "language": "cpp", "status": "passed", "passed": True}]
    trans = [{"task_id": "CPP/0", "language": "cpp", "source_language": "python", "status": s, "passed": s == "passed"}
             for s in ("failed", "failed", "harness_error")]
    mixed = summarize(gen + trans, ks=(1,))
    assert mixed["overall"]["samples"] == 1 and mixed["overall"]["pass@1"] == 1.0
    assert mixed["translation_overall"]["samples"] == 3 and mixed["translation_overall"]["pass@1"] == 0.0
    assert mixed["harness_errors"] == 1
    table = format_table(mixed)
    assert "overall (generation)" in table and "overall (translation)" in table
    table = format_table(summarize(trans, ks=(1, 10)))  # 3 samples per problem: no pass@10 anywhere
    assert "pass@1 src\\tgt" in table and "pass@10 src" not in table
    # one kind alone: one overall, as before
    assert "translation_overall" not in summarize(trans, ks=(1,))
    assert summarize(trans, ks=(1,))["overall"]["samples"] == 3


# ------------------------------------------------------------------ real Docker
@pytest.mark.docker
def test_bigcode_programs_pass(tmp_path, problems, docker_client):
    for prefix, lang in (("Python", "python"), ("Java", "java"), ("Go", "go")):
        path = bigcode_file(tmp_path / f"generations-{lang}.json", problems, prefix, count=2)
        jobs = [make_job(s, problems[s.task_id]) for s in load_samples(path, language=lang)]
        got = []
        Executor(workers=2).run(jobs, got.append)
        assert len(got) == 4 and {r["status"] for r in got} == {"passed"}, [(r["task_id"], r["detail"]) for r in got]
