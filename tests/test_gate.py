"""The regression gate on synthetic result sets with known differences."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from humaneval_x.gate import GateInputError, gate, to_junit, to_markdown
from humaneval_x.runs import load_run
from humaneval_x.summary import summarize

LANGS = {"python": "Python", "cpp": "CPP", "go": "Go"}


def make_results(path, rates, n=20, seed=0, variant="errata-v1", problems=40):
    """results.jsonl + summary.json where problem i of language L passes with probability rates[L][i]."""
    rng = np.random.default_rng(seed)
    records = []
    for lang, prefix in LANGS.items():
        for i in range(problems):
            c = rng.binomial(n, rates[lang][i])
            for s in range(n):
                ok = s < c
                records.append({"task_id": f"{prefix}/{i}", "sample_index": s, "language": lang,
                                "source_language": None, "status": "passed" if ok else "failed", "passed": ok})
    path.mkdir(parents=True)
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (path / "summary.json").write_text(json.dumps(summarize(records, (1, 10), {"dataset_variant": variant})))
    return path


def base_rates(problems=40, seed=1):
    rng = np.random.default_rng(seed)
    return {lang: rng.uniform(0.05, 0.9, problems) for lang in LANGS}


def shifted(rates, delta, langs=None):
    return {l: np.clip(r + (delta if langs is None or l in langs else 0), 0, 1) for l, r in rates.items()}


@pytest.fixture
def rates():
    return base_rates()


def run_gate(tmp_path, base_rates_, cand_rates, seed_b=0, seed_c=0, **kw):
    b = make_results(tmp_path / "base", base_rates_, seed=seed_b)
    c = make_results(tmp_path / "cand", cand_rates, seed=seed_c)
    return gate(load_run(b), load_run(c), **kw)


def test_no_change_passes(tmp_path, rates):
    res = run_gate(tmp_path, rates, rates, seed_b=5, seed_c=5)
    assert res["verdict"] == "pass"
    assert res["groups"][0]["delta"] == pytest.approx(0.0)


def test_sampling_noise_does_not_fail(tmp_path, rates):
    # same model, different sampling seeds: the point estimate moves, the gate does not fire
    res = run_gate(tmp_path, rates, rates, seed_b=1, seed_c=2, per_language=True)
    assert res["verdict"] == "pass"
    assert any(abs(v["delta"]) > 0.3 for v in res["groups"])  # there is noise to ignore


def test_clear_drop_fails_overall(tmp_path, rates):
    res = run_gate(tmp_path, rates, shifted(rates, -0.15), seed_b=1, seed_c=2)
    assert res["verdict"] == "regression"
    overall = res["groups"][0]
    assert overall["group"] == "overall" and overall["regression"] and overall["ci_high"] < -1.0


def test_drop_in_one_language_needs_per_language(tmp_path, rates):
    cand = shifted(rates, -0.3, langs={"go"})
    loose = run_gate(tmp_path, rates, cand, seed_b=1, seed_c=2, max_drop=15.0)
    assert loose["verdict"] == "pass"  # overall drop (~10pp) within the 15pp tolerance
    (tmp_path / "base").rename(tmp_path / "b2")
    (tmp_path / "cand").rename(tmp_path / "c2")
    strict = gate(load_run(tmp_path / "b2"), load_run(tmp_path / "c2"), max_drop=15.0, per_language=True)
    assert strict["verdict"] == "regression"
    bad = [v["group"] for v in strict["groups"] if v["regression"]]
    assert bad == ["lang:go"]


def test_clear_gain_passes_and_is_marked(tmp_path, rates):
    res = run_gate(tmp_path, rates, shifted(rates, +0.15), seed_b=1, seed_c=2)
    assert res["verdict"] == "pass" and res["groups"][0]["improvement"]


def test_reports_for_ci(tmp_path, rates):
    res = run_gate(tmp_path, rates, shifted(rates, -0.15), seed_b=1, seed_c=2, per_language=True)
    md = to_markdown(res)
    assert "regression" in md and "| overall |" in md and "Rule:" in md
    suite = ET.fromstring(to_junit(res))
    cases = suite.findall("testcase")
    assert len(cases) == 4 and suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
    assert int(suite.get("failures")) >= 1


def test_unusable_inputs(tmp_path, rates):
    b = make_results(tmp_path / "b", rates)
    other = make_results(tmp_path / "o", rates, variant="original")
    with pytest.raises(GateInputError, match="variants differ"):
        gate(load_run(b), load_run(other))
    fewer = make_results(tmp_path / "f", {l: r[:30] for l, r in rates.items()}, problems=30)
    with pytest.raises(GateInputError, match="different problems"):
        gate(load_run(b), load_run(fewer))
    with pytest.raises(GateInputError, match="samples per problem"):
        gate(load_run(b), load_run(b), metric="pass@100")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "humaneval_x.cli", "gate", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_exit_codes_and_files(tmp_path, rates):
    b = make_results(tmp_path / "b", rates, seed=1)
    same = make_results(tmp_path / "s", rates, seed=2)
    drop = make_results(tmp_path / "d", shifted(rates, -0.2), seed=3)
    ok = cli("--baseline", str(b), "--candidate", str(same), "--junit", str(tmp_path / "j.xml"),
             "--markdown", str(tmp_path / "m.md"))
    assert ok.returncode == 0, ok.stderr
    assert "rule:" in ok.stdout and "verdict: PASS" in ok.stdout
    assert (tmp_path / "j.xml").exists() and (tmp_path / "m.md").exists()
    bad = cli("--baseline", str(b / "summary.json"), "--candidate", str(drop / "results.jsonl"))
    assert bad.returncode == 1 and "REGRESSION" in bad.stdout
    missing = cli("--baseline", str(tmp_path / "nope"), "--candidate", str(same))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "results.jsonl").write_text('{"task_id": "Python/0"\n')
    corrupt = cli("--baseline", str(b), "--candidate", str(tmp_path / "corrupt"))
    assert corrupt.returncode == 2 and "not a JSON object" in corrupt.stderr


def test_gate_run_repeats_the_baselines_settings(tmp_path, rates):
    from humaneval_x.gate import candidate_run_args
    b = make_results(tmp_path / "b", rates, n=1)
    summary = json.loads((b / "summary.json").read_text())
    summary.update(sampling={"n": 1, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": 256, "seed": 0},
                   settings={"kind": "generation", "chat": True, "tag": True, "strip": False,
                             "dataset_variant": "errata-v1", "max_new_tokens": 256},
                   generation={"backend": "transformers", "batch_size": 64})
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(summary))
    args = candidate_run_args(load_run(stored))
    # a greedy baseline gets a greedy candidate with the same limit, prompts and problems
    assert args == {"languages": "cpp,go,python", "limit": 40, "dataset_variant": "errata-v1", "preset": "codegeex",
                    "n": 1, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": 256, "seed": 0, "chat": True,
                    "tag": True, "strip": False, "batch_size": 64}
    over = candidate_run_args(load_run(stored), n=4, temperature=0.2, limit=3, chat="false")
    assert (over["n"], over["temperature"], over["limit"], over["chat"], over["max_new_tokens"]) == (4, 0.2, 3, "false", 256)
    explicit = candidate_run_args(load_run(stored), preset="pass1")
    assert explicit["preset"] == "pass1" and "n" not in explicit and "temperature" not in explicit
    old = candidate_run_args(load_run(b))  # a summary without recorded sampling: the old default
    assert old["preset"] == "pass1" and old["chat"] == "auto" and "n" not in old


def test_stored_baseline_is_a_complete_greedy_run():
    """reports/: the default model's greedy baseline over all 820 problems, usable by gate --run."""
    from pathlib import Path

    from humaneval_x.gate import candidate_run_args
    stored = sorted(Path(__file__).resolve().parent.parent.glob("reports/*/summary.json"))
    if not stored:
        pytest.skip("no stored baseline under reports/")
    for path in stored:
        base = load_run(path)
        groups = base.groups()
        assert groups["overall"]["problems"] == 820 and base.summary["harness_errors"] == 0
        assert all(len(groups[f"lang:{l}"]["per_problem"]) == 164 for l in ("python", "cpp", "java", "js", "go"))
        assert all(v == [1, v[1]] and v[1] in (0, 1) for v in groups["overall"]["per_problem"].values())
        args = candidate_run_args(base)
        assert args["limit"] == 164 and args["n"] == 1 and args["temperature"] == 0.0
        assert args["chat"] in (True, False) and args["max_new_tokens"] == base.summary["sampling"]["max_new_tokens"]
        same = gate(base, base)
        assert same["verdict"] == "pass" and same["groups"][0]["delta"] == 0.0


def test_gate_power_script_table(capsys):
    """benchmarks/gate_power.py on a small scale: no false alarm without a change, a large drop caught."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "gate_power.py"
    spec = importlib.util.spec_from_file_location("gate_power", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--sims", "6", "--rounds", "200", "--problems", "200", "--ns", "1,200"])
    rows = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| 1 |") or l.startswith("| 200 |")]
    cells = {int(r.split("|")[1]): [int(c.strip().rstrip("%")) for c in r.split("|")[2:6]] for r in rows}
    assert cells[1][0] == 0 and cells[200][0] == 0    # no real change: not flagged
    assert cells[200][3] == 100                        # n=200, a real 8-point drop: always caught
    assert cells[1][1] <= cells[1][3]                  # power grows with the size of the drop
