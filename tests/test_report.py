"""Reports rendered from stored results: content checks, and a real headless Chromium render."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from humaneval_x.report import compare, render_markdown, write_reports
from humaneval_x.runs import load_run
from humaneval_x.summary import summarize

STATUSES = ["passed", "failed", "compile_error", "runtime_error", "timeout"]


def make_run(path, seed=0, n=12):
    rng = np.random.default_rng(seed)
    recs = []
    for lang, prefix in (("python", "Python"), ("cpp", "CPP"), ("js", "JavaScript")):
        for i in range(6):
            for s in range(n):
                st = STATUSES[int(rng.integers(0, 5))]
                recs.append({"task_id": f"{prefix}/{i}", "sample_index": s, "language": lang, "source_language": None,
                             "status": st, "passed": st == "passed", "detail": f"detail-{st}",
                             "cleaned": f"code <for> {prefix}/{i} #{s}", "generation": "raw",
                             "run": {"stdout": "", "stderr": f"stderr of {prefix}/{i} #{s}"}})
    for src, tgt, prefix in (("python", "cpp", "CPP"), ("go", "java", "Java")):
        for i in range(3):
            for s in range(n):
                ok = bool(rng.random() < 0.5)
                recs.append({"task_id": f"{prefix}/{i}", "sample_index": s, "language": tgt, "source_language": src,
                             "status": "passed" if ok else "failed", "passed": ok, "detail": "", "cleaned": "x"})
    path.mkdir(parents=True)
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (path / "summary.json").write_text(json.dumps(summarize(recs, (1, 10), {"dataset_variant": "errata-v1"})))
    return path


def test_report_content(tmp_path):
    run_dir = make_run(tmp_path / "run")
    md_path, html_path = write_reports(run_dir)
    md, page = md_path.read_text(), html_path.read_text()
    assert "| Python |" in md and "| Python→C++ |" in md and "pass@10" in md
    assert "rows: source, columns: target" in md
    assert page.count("<svg") >= 4  # bars for pass@1 and pass@10, k-curves, status breakdown
    assert "pass@k versus k" in page and "samples per status" in page and "class=\"heat\"" in page
    assert "code &lt;for&gt; CPP/3" in page            # drill-down shows (escaped) code
    assert "stderr of JavaScript/5" in page            # and the captured output
    assert "python:CPP/1" in page                      # translation problems keyed by pair
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert "<script src" not in page and "<link" not in page


def test_compare_two_runs(tmp_path):
    a, b = make_run(tmp_path / "a", seed=1), make_run(tmp_path / "b", seed=2)
    md, page = compare([str(a), str(b / "summary.json")], tmp_path / "cmp", (1, 10))
    text = md.read_text()
    assert "| overall |" in text and "changed most" in text
    assert page.read_text().count("<svg") == 2


def test_markdown_from_summary_only(tmp_path):
    run_dir = make_run(tmp_path / "run")
    md = render_markdown(load_run(run_dir / "summary.json"))
    # this run mixes generation and translation samples: scored apart (summary.py), two overall rows
    assert "| overall (generation) |" in md and "| overall (translation) |" in md and "| overall |" not in md


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no Chromium: apt-get install chromium (scripts/setup.sh does)")


def test_html_renders_in_headless_chromium(tmp_path):
    run_dir = make_run(tmp_path / "run")
    _, html_path = write_reports(run_dir)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    proc = subprocess.run([chromium(), *flags, "--dump-dom", html_path.as_uri()], capture_output=True, text=True,
                          timeout=120)
    dom = proc.stdout
    assert 'data-rendered="ok"' in dom, proc.stderr[-2000:]
    assert "data-errors" not in dom
    assert "<svg" in dom and "problems" in dom
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *flags, f"--screenshot={shot}", "--window-size=1100,1600", html_path.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


# ------------------------------------------------------------------ runs without a usable summary: one line, exit 2
def humaneval_x(*args):
    import sys
    return subprocess.run([sys.executable, "-m", "humaneval_x.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("summary", [None, '{"dataset_variant": "errata-v1", ', "null",
                                     json.dumps({"ks": [1, 10]}), json.dumps({"dataset_variant": ""})])
def test_report_and_compare_refuse_a_run_without_a_usable_summary(tmp_path, summary):
    good, bad = make_run(tmp_path / "good", seed=1), make_run(tmp_path / "bad", seed=2)
    if summary is None:
        (bad / "summary.json").unlink()
    else:
        (bad / "summary.json").write_text(summary)
    res = humaneval_x("report", str(bad))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "summary.json" in res.stderr
    assert not (bad / "report.md").exists() and not (bad / "report.html").exists()
    res = humaneval_x("compare", str(good), str(bad), "--output-dir", str(tmp_path / "cmp"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "summary.json" in res.stderr
    assert not (tmp_path / "cmp" / "compare.md").exists()


def test_compare_refuses_runs_over_other_problems_or_data(tmp_path):
    a = make_run(tmp_path / "a", seed=1)
    fewer = make_run(tmp_path / "fewer", seed=2)
    recs = [json.loads(line) for line in (fewer / "results.jsonl").read_text().splitlines()]
    recs = [r for r in recs if r["task_id"] != "CPP/5"]
    (fewer / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    res = humaneval_x("compare", str(a), str(fewer), "--output-dir", str(tmp_path / "cmp"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "cover different problems" in res.stderr and "CPP/5" in res.stderr
    assert "1 only in the first" in res.stderr and "0 only in the second" in res.stderr
    original = make_run(tmp_path / "original", seed=3)
    summary = json.loads((original / "summary.json").read_text())
    (original / "summary.json").write_text(json.dumps({**summary, "dataset_variant": "original"}))
    res = humaneval_x("compare", str(a), str(original), "--output-dir", str(tmp_path / "cmp"))
    assert res.returncode == 2 and "different dataset variants" in res.stderr
    assert not (tmp_path / "cmp" / "compare.md").exists()
