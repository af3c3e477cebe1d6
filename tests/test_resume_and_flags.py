"""Never a silent wrong result: resume by content, and every flag checked before any work."""
import json
import subprocess
import sys

import pytest

from humaneval_x.cli_args import UsageError, validate
from humaneval_x.cli import CLI
from humaneval_x.evaluate import RESULTS_FILE, SUMMARY_FILE, SUPERSEDED_FILE, evaluate_samples
from humaneval_x.runs import load_run


def quiet(*a):
    pass


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def lines(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


@pytest.mark.docker
def test_an_edited_sample_is_executed_again_and_a_removed_one_dropped(problems, data_dir, tmp_path, docker_client):
    p0, p1 = problems["Python/0"], problems["Python/1"]
    samples, out = tmp_path / "s.jsonl", tmp_path / "s.eval"
    write(samples, [{"task_id": "Python/0", "generation": "    return None\n"},
                    {"task_id": "Python/1", "generation": p1.canonical_solution},
                    {"task_id": "Python/1", "generation": "    return None\n"}])
    first = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=quiet, cache=False)
    assert first["overall"]["status_counts"]["passed"] == 1
    # the wrong Python/0 is replaced by the canonical solution; Python/1's second sample is gone
    write(samples, [{"task_id": "Python/0", "generation": p0.canonical_solution},
                    {"task_id": "Python/1", "generation": p1.canonical_solution}])
    log = []
    again = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=log.append, cache=False)
    assert again["executed_now"] == 1 and again["reused_results"] == 1
    assert again["stale_results_rerun"] == 1 and again["results_dropped"] == 1
    assert any("1 changed samples to re-execute" in str(m) for m in log)
    assert again["overall"]["pass@1"] == 1.0
    # results.jsonl, summary.json, report and gate see the same two results
    stored = lines(out / RESULTS_FILE)
    assert sorted((r["task_id"], r["sample_index"]) for r in stored) == [("Python/0", 0), ("Python/1", 0)]
    assert all(r["digest"] for r in stored)
    assert json.loads((out / SUMMARY_FILE).read_text())["overall"]["pass@1"] == 1.0
    assert load_run(out).summary["overall"]["pass@1"] == 1.0
    assert len(lines(out / SUPERSEDED_FILE)) == 2  # what was replaced is kept aside, not lost
    # the same input once more: nothing runs
    third = evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=quiet, cache=False)
    assert third["executed_now"] == 0 and third["reused_results"] == 2


@pytest.mark.docker
def test_strict_resume_refuses_a_changed_sample(problems, data_dir, tmp_path, docker_client):
    samples, out = tmp_path / "s.jsonl", tmp_path / "s.eval"
    write(samples, [{"task_id": "Python/0", "generation": "    return None\n"}])
    evaluate_samples(samples, out, data_dir=data_dir, show_progress=False, log=quiet, cache=False)
    before = (out / RESULTS_FILE).read_text()
    write(samples, [{"task_id": "Python/0", "generation": problems["Python/0"].canonical_solution}])
    r = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(samples), "--data-dir",
                        data_dir, "--resume", "strict", "--progress=False"], capture_output=True, text=True)
    assert r.returncode == 2 and "--resume strict refuses" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert (out / RESULTS_FILE).read_text() == before  # nothing lost or changed


def test_a_changed_limit_makes_a_stored_result_stale(problems):
    from humaneval_x.execute import Executor, Timeouts, make_job
    from humaneval_x.samples import Sample
    p = problems["Python/0"]
    job = make_job(Sample("Python/0", 0, p.canonical_solution), p)
    base = Executor(lambda lang: None, workers=1)
    assert base.digest(job) == Executor(lambda lang: None, workers=1).digest(job)
    assert base.digest(job) != Executor(lambda lang: None, workers=1, timeouts=Timeouts(run_cpu=3)).digest(job)
    other = make_job(Sample("Python/0", 0, p.canonical_solution + "\n# a comment\n"), p)
    assert base.digest(job) != base.digest(other)


BAD = [  # (argv, what the one line says)
    (["evaluate-samples", "s.jsonl", "--output-dirr", "zz"], "unknown flag --output-dirr"),
    (["evaluate-generation", "--max-new-token", "8"], "unknown flag --max-new-token"),
    (["evaluate-samples", "s.jsonl", "-k", "0"], "--ks must be positive integers"),
    (["evaluate-samples", "s.jsonl", "-k", "abc"], "--ks must be positive integers"),
    (["evaluate-generation", "--n", "0"], "--n must be a positive integer"),
    (["evaluate-samples", "s.jsonl", "--clean=Flase"], "--clean must be true or false"),
    (["evaluate-generation", "--model", "/nonexistent"], "no such model folder or .gguf file"),
    (["evaluate-generation", "--languages", "python,cobol"], "choose from python, cpp, java, js, go, rust"),
    (["evaluate-generation", "--preset", "fast"], "--preset must be one of codegeex, pass1, greedy"),
    (["evaluate-generation", "--temperature", "-1"], "--temperature must be a number >= 0"),
    (["evaluate-generation", "--top-p", "2"], "--top-p must be a number in (0, 1]"),
    (["evaluate-translation", "--pairs", "python-python"], "same source and target"),
    (["evaluate-samples", "s.jsonl", "--resume", "maybe"], "--resume must be one of auto, strict"),
    (["evaluate-samples", "s.jsonl", "--workers", "two"], "--workers must be a positive integer"),
    (["evalute-samples", "s.jsonl"], "unknown command 'evalute-samples'"),
    (["evaluate-samples"], "missing SAMPLES"),
]


@pytest.mark.parametrize("argv,says", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_flags_are_refused_before_any_work(argv, says, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.jsonl").write_text('{"task_id": "Python/0", "generation": "    return None\\n"}\n')
    with pytest.raises(UsageError, match=None) as exc:
        validate(CLI(), argv)
    assert says in str(exc.value)


def test_bad_flag_is_one_line_exit_2_and_creates_nothing(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"task_id": "Python/0", "generation": "    return None\\n"}\n')
    r = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", "s.jsonl", "--output-dirr", "zz"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]  # no folder made, nothing ran


def test_good_flags_pass_validation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.jsonl").write_text("{}\n")
    got = validate(CLI(), ["evaluate-samples", "s.jsonl", "-k", "1,10", "--noclean", "--workers", "2"])
    assert got == {"samples": "s.jsonl", "ks": (1, 10), "clean": False, "workers": 2}
    assert validate(CLI(), ["sandbox", "status"]) == {}
    assert validate(CLI(), ["evaluate-samples", "--help"]) is None


def _workers_of(pid):
    r = subprocess.run(["docker", "ps", "-a", "--filter", "label=org.humaneval-x.worker", "--format",
                        '{{.Label "org.humaneval-x.owner"}}'], capture_output=True, text=True, check=True)
    return [l for l in r.stdout.splitlines() if f":{pid}:" in l]


@pytest.mark.docker
@pytest.mark.parametrize("after", [1.5, 4.0])
def test_an_interrupt_leaves_no_worker_behind_and_the_rerun_is_exact(problems, data_dir, tmp_path, after,
                                                                       docker_client):
    import signal
    import time
    rows = [{"task_id": p.task_id, "generation": p.canonical_solution}
            for prefix in ("Python", "CPP", "Java", "JavaScript", "Go") for p in
            (problems[f"{prefix}/{i}"] for i in range(4))]
    samples, out = tmp_path / "s.jsonl", tmp_path / "out"
    write(samples, rows)
    cmd = [sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(samples), "--nocache", "--output-dir",
           str(out), "--data-dir", data_dir, "--progress=False"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(after)  # during start-up of the first pools, or mid-run
    proc.send_signal(signal.SIGINT)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0), text
    time.sleep(1)
    assert _workers_of(proc.pid) == []
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    results = lines(out / RESULTS_FILE)
    assert sorted((r["task_id"], r["sample_index"]) for r in results) == sorted((r["task_id"], 0) for r in rows)
    assert all(r["status"] == "passed" for r in results)


def test_a_sample_with_a_lone_surrogate_is_bad_input_exit_2(tmp_path):
    """JSON can carry "\\ud800", which no program text holds: one error line naming the line, exit 2
    (it once crashed the run with a traceback while hashing the program)."""
    (tmp_path / "s.jsonl").write_text('{"task_id": "Python/0", "generation": "    return True\\n"}\n'
                                      '{"task_id": "Python/0", "generation": "    return True  # \\ud800\\n"}\n')
    r = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", "s.jsonl", "-o", "out"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "s.jsonl:2" in r.stderr and "surrogate" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl"]


def test_a_served_models_lone_surrogate_becomes_a_replacement_character():
    from humaneval_x.generation.openai_backend import _valid_text
    assert _valid_text("ok \ud800 😀") == "ok \ufffd\ufffd\ufffd 😀"
    assert _valid_text(None) == ""
