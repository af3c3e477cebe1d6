"""evaluate-samples end to end through the real sandboxes: verdicts, summary, resume, bad input."""
import json
import subprocess
import sys

import pytest

from humaneval_x.evaluate import RESULTS_FILE, SUMMARY_FILE, evaluate_samples

pytestmark = pytest.mark.docker

WRONG = {"Python": "    return None\n", "CPP": "    return {};\n}\n", "Java": "        return null;\n    }\n}\n",
         "JavaScript": "  return null\n}\n", "Go": "    return nil\n}\n"}


def write_samples(path, problems, numbers=(1, 2)):
    rows = []
    for prefix in ("Python", "CPP", "Java", "JavaScript", "Go"):
        for n in numbers:
            p = problems[f"{prefix}/{n}"]
            rows.append({"task_id": p.task_id, "generation": p.canonical_solution})
            rows.append({"task_id": p.task_id, "completion": WRONG[prefix]})
            rows.append({"task_id": p.task_id, "generation": p.canonical_solution})  # duplicate program
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def read_results(out):
    return [json.loads(l) for l in (out / RESULTS_FILE).read_text().splitlines() if l.strip()]


def test_verdicts_summary_and_resume(problems, data_dir, tmp_path, docker_client):
    samples = tmp_path / "samples.jsonl"
    rows = write_samples(samples, problems)
    out = tmp_path / "out"
    summary = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=lambda *a: None)
    results = read_results(out)
    assert len(results) == len(rows)
    for r in results:
        assert r["passed"] == (r["sample_index"] != 1), r
    assert summary["overall"]["pass@1"] == pytest.approx(2 / 3)
    for lang in ("python", "cpp", "java", "js", "go"):
        assert summary["languages"][lang]["problems"] == 2
        assert summary["languages"][lang]["status_counts"]["passed"] == 4
    assert "pass@10" not in summary["overall"]  # k > n is not reported
    assert summary["dataset_variant"] == "errata-v2"
    assert set(summary["sandbox_images"]) == {"python", "cpp", "java", "js", "go"}
    assert sum(r["reused_result"] for r in results) == 10  # the duplicate ran once

    # simulate a crash: drop the last 7 results and leave a torn line behind
    lines = (out / RESULTS_FILE).read_text().splitlines(keepends=True)
    (out / RESULTS_FILE).write_text("".join(lines[:-7]) + lines[-7][: len(lines[-7]) // 2])
    again = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=lambda *a: None)
    assert again["executed_now"] == 7
    results = read_results(out)
    keys = [(r["task_id"], r["sample_index"]) for r in results]
    assert len(keys) == len(set(keys)) == len(rows)
    assert again["overall"] == summary["overall"] | {"samples": len(rows)}
    assert json.loads((out / SUMMARY_FILE).read_text())["overall"]["pass@1"] == pytest.approx(2 / 3)

    # nothing left: a third run executes nothing
    third = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=lambda *a: None)
    assert third["executed_now"] == 0


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "humaneval_x.cli", *args], capture_output=True, text=True,
                          timeout=600, **kw)


@pytest.mark.parametrize("content,message", [
    ('{"task_id": "Python/0"}\n', "generation"),
    ('{"task_id": "Cobol/0", "generation": "x"}\n', "Cobol/0"),
    ('not json\n', "not a JSON object"),
    ('{"task_id": "Python/0", "generation": "x"}\n{"task_id": "Python/0", "generation": "y", "sample_index": 0}\n',
     "duplicate sample"),
])
def test_bad_samples_file_one_clear_error(tmp_path, data_dir, content, message):
    f = tmp_path / "bad.jsonl"
    f.write_text(content)
    proc = cli("evaluate-samples", str(f), "--data-dir", data_dir)
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and message in err[0], proc.stderr


def test_missing_file_and_mixed_variant(tmp_path, data_dir, problems, docker_client):
    proc = cli("evaluate-samples", str(tmp_path / "nope.jsonl"), "--data-dir", data_dir)
    assert proc.returncode == 2 and "no such file" in proc.stderr
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "Python/3", "generation": problems["Python/3"].canonical_solution}) + "\n")
    ok = cli("evaluate-samples", str(samples), "--data-dir", data_dir, "--progress=False")
    assert ok.returncode == 0, ok.stderr
    assert "pass@1" in ok.stdout and "100.00" in ok.stdout
    before = (tmp_path / "s.eval" / RESULTS_FILE).read_text()
    mixed = cli("evaluate-samples", str(samples), "--data-dir", data_dir, "--dataset-variant", "original")
    assert mixed.returncode == 2 and "was made with dataset_variant='errata-v2'; this run asks for dataset_variant='original'" in mixed.stderr
    assert (tmp_path / "s.eval" / RESULTS_FILE).read_text() == before  # nothing lost
