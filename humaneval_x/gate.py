"""CI regression gate: is a candidate checkpoint's pass@k worse than a baseline's, beyond noise?

Per group (overall, each language, each translation pair) the change in pass@k is the mean over
problems of the paired per-problem difference (each problem's unbiased pass@k from its n samples
and c correct). Its confidence interval comes from a two-level bootstrap: problems are resampled
with replacement (paired), and each resampled problem's correct count is redrawn from a binomial
with its observed pass rate, for both runs, so that sampling noise and the choice of problems both
widen the interval. Rule: a group REGRESSES when the whole interval lies below -max_drop
(percentage points), i.e. the drop is both real and larger than the tolerance.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

from .errors import HarnessError
from .flips import flipped_problems
from .languages import task_order
from .limits import LimitPolicy, compare_time_limits
from .metrics import pass_at_k
from .runs import Run


class GateInputError(HarnessError):
    """Unusable input: different data, different problems, missing files (exit status 2)."""


@dataclass
class GroupVerdict:
    group: str
    metric: str
    baseline: float
    candidate: float
    delta: float          # candidate - baseline, percentage points
    ci_low: float
    ci_high: float
    problems: int
    gated: bool
    regression: bool
    improvement: bool


def _score_matrix(counts: np.ndarray, k: int) -> np.ndarray:
    """Row i: pass@k of problem i for every possible correct count 0..n_i (padded)."""
    width = int(counts[:, 0].max()) + 1
    tables = {}
    out = np.zeros((len(counts), width))
    for i, n in enumerate(counts[:, 0]):
        if n not in tables:
            tables[n] = np.array([pass_at_k(int(n), c, k) for c in range(int(n) + 1)])
        out[i, : n + 1] = tables[n]
    return out


def regresses(ci_high: float, max_drop: float) -> bool:
    """The gate's rule: the whole interval of the change lies below -max_drop percentage points."""
    return ci_high < -max_drop


def bootstrap_change(base: np.ndarray, cand: np.ndarray, k: int = 1, confidence: float = 0.95, rounds: int = 2000,
                     seed: int = 0):
    """The gate's interval (see ``_bootstrap``); base/cand: (P, 2) integer arrays of (n, c) per problem."""
    return _bootstrap(np.asarray(base, dtype=np.int64), np.asarray(cand, dtype=np.int64), k, confidence, rounds, seed)


def _bootstrap(base: np.ndarray, cand: np.ndarray, k: int, confidence: float, rounds: int, seed: int):
    """(baseline mean, candidate mean, low, high of the change), in percent. base/cand: (P, 2) arrays of (n, c)."""
    rng = np.random.default_rng(seed)
    tb, tc = _score_matrix(base, k), _score_matrix(cand, k)
    rows = np.arange(len(base))
    base_mean, cand_mean = tb[rows, base[:, 1]].mean() * 100, tc[rows, cand[:, 1]].mean() * 100
    idx = rng.integers(0, len(base), (rounds, len(base)))        # paired resampling of problems
    bc = rng.binomial(base[idx, 0], base[idx, 1] / base[idx, 0])  # sampling noise within each problem
    cc = rng.binomial(cand[idx, 0], cand[idx, 1] / cand[idx, 0])
    deltas = (tc[idx, cc].mean(axis=1) - tb[idx, bc].mean(axis=1)) * 100
    alpha = (1 - confidence) / 2
    return float(base_mean), float(cand_mean), float(np.quantile(deltas, alpha)), float(np.quantile(deltas, 1 - alpha))


def timeouts(run: Run) -> Optional[int]:
    """The run's count of `timeout` verdicts (generation and translation samples), or None if not recorded."""
    counts = [(run.summary.get(k) or {}).get("status_counts") for k in ("overall", "translation_overall")]
    if not isinstance(counts[0], dict) or not isinstance(counts[0].get("timeout"), int):
        return None
    return sum(c.get("timeout", 0) for c in counts if isinstance(c, dict))


def check_comparable(baseline: Run, candidate: Run, groups: List[str]) -> None:
    bv, cv = baseline.summary.get("dataset_variant"), candidate.summary.get("dataset_variant")
    if not bv or not cv:  # load_run refuses such summaries; a Run made in code is checked too
        raise GateInputError(f"the {'baseline' if not bv else 'candidate'} records no dataset variant")
    if bv != cv:
        from .dataset import variant_bridge
        bridge = variant_bridge(bv, cv)
        if bridge is None:
            raise GateInputError(f"dataset variants differ: baseline {bv}, candidate {cv}")
        import sys
        print(f"humaneval-x gate: WARNING: {bridge}", file=sys.stderr)
    bl, cl = baseline.summary.get("language_set"), candidate.summary.get("language_set")
    if bl and cl and bl != cl:  # e.g. the paper's five against all six: different tasks, never gated
        raise GateInputError(f"the runs cover different languages: baseline {','.join(bl)}, candidate {','.join(cl)}")
    bg, cg = baseline.groups(), candidate.groups()  # other problems first: no time-limit policy bridges them
    for g in groups:
        if g not in bg or g not in cg:
            raise GateInputError(f"group {g} is missing from the {'baseline' if g not in bg else 'candidate'}")
        bp, cp = set(bg[g]["per_problem"]), set(cg[g]["per_problem"])
        if bp != cp:
            only_b, only_c = sorted(bp - cp, key=task_order)[:3], sorted(cp - bp, key=task_order)[:3]
            raise GateInputError(f"{g}: the runs cover different problems (baseline {len(bp)}, candidate {len(cp)}; "
                                 f"only in baseline: {only_b}, only in candidate: {only_c})")
    # different time-limit policies: refused, not gated silently
    refusal, warning = compare_time_limits(baseline.summary.get("time_limits"), candidate.summary.get("time_limits"),
                                           timeouts(baseline), timeouts(candidate))
    if refusal:
        raise GateInputError(refusal)
    if warning:
        import sys
        print(f"humaneval-x gate: WARNING: {warning}", file=sys.stderr)


def gate(baseline: Run, candidate: Run, metric: str = "pass@1", max_drop: float = 1.0, per_language: bool = False,
         confidence: float = 0.95, rounds: int = 2000, seed: int = 0) -> dict:
    try:
        k = int(metric.split("@")[1])
    except (IndexError, ValueError):
        raise GateInputError(f"--metric {metric!r}: expected pass@K") from None
    groups = sorted(set(baseline.groups()) & set(candidate.groups()) | {"overall"})
    groups = ["overall"] + [g for g in groups if g != "overall"]
    check_comparable(baseline, candidate, groups)
    verdicts = []
    for g in groups:
        bpp, cpp = baseline.groups()[g]["per_problem"], candidate.groups()[g]["per_problem"]
        keys = sorted(bpp)
        base = np.array([bpp[t] for t in keys], dtype=np.int64)
        cand = np.array([cpp[t] for t in keys], dtype=np.int64)
        min_n = int(min(base[:, 0].min(), cand[:, 0].min()))
        if k > min_n:
            raise GateInputError(f"{metric} needs at least {k} samples per problem; {g} has {min_n}")
        base_mean, cand_mean, lo, hi = _bootstrap(base, cand, k, confidence, rounds, seed)
        gated = g == "overall" or per_language
        verdicts.append(GroupVerdict(
            group=g, metric=metric,
            baseline=base_mean, candidate=cand_mean, delta=cand_mean - base_mean, ci_low=lo, ci_high=hi, problems=len(keys), gated=gated,
            regression=gated and regresses(hi, max_drop), improvement=lo > 0))
    regression = any(v.regression for v in verdicts)
    rule = (f"REGRESSION when the {confidence:.0%} bootstrap interval of the change in {metric} "
            f"(candidate - baseline, percentage points; {rounds} paired rounds over problems and samples) "
            f"lies entirely below -{max_drop:g}; gated groups: {'overall and each language/pair' if per_language else 'overall'}")
    return {"verdict": "regression" if regression else "pass", "rule": rule, "metric": metric, "max_drop": max_drop,
            "confidence": confidence, "baseline": str(baseline.path), "candidate": str(candidate.path),
            "groups": [asdict(v) for v in verdicts], "flips": gate_flips(baseline, candidate)}


# What the gate does with problems whose programs flipped (the flip audit, humaneval_x/flips.py) in either run:
# they stay in the comparison, each flipping program scored as the audit scores it (passed only if every run
# passed), and they are listed in every output so that a reviewer sees which part of the change may be noise
# of the harness or of the programs themselves; a flip alone never fails the gate.
FLIP_DECISION = ("kept in the comparison (a flipping program counts as passed only if it passed every run); "
                 "listed for review, never a failure by itself")


def gate_flips(baseline: Run, candidate: Run) -> dict:
    b, c = flipped_problems(baseline.summary), flipped_problems(candidate.summary)
    return {"baseline": b, "candidate": c, "problems": sorted(set(b) | set(c), key=task_order), "decision": FLIP_DECISION}


def _flip_lines(result: dict) -> List[str]:
    f = result.get("flips") or {}
    if not f.get("problems"):
        return []
    return [f"Problems that flipped between runs ({len(f['problems'])}; baseline {len(f['baseline'])}, "
            f"candidate {len(f['candidate'])}): {', '.join(f['problems'])}. Decision: {f['decision']}."]


def _label(v: dict) -> str:
    if v["regression"]:
        return "REGRESSION"
    if v["improvement"]:
        return "improved"
    return "ok" if v["gated"] else "(info)"


def format_text(result: dict) -> str:
    lines = [f"{'group':<16}{'baseline':>10}{'candidate':>11}{'change':>9}  {'interval':<19}verdict"]
    for v in result["groups"]:
        lines.append(f"{v['group']:<16}{v['baseline']:>10.2f}{v['candidate']:>11.2f}{v['delta']:>+9.2f}  "
                     f"[{v['ci_low']:+.2f}, {v['ci_high']:+.2f}]".ljust(19 + 48) + _label(v))
    lines.append(f"rule: {result['rule']}")
    lines += _flip_lines(result)
    lines.append(f"verdict: {result['verdict'].upper()}")
    return "\n".join(lines)


def to_markdown(result: dict) -> str:
    icon = "❌ regression" if result["verdict"] == "regression" else "✅ pass"
    out = [f"## humaneval-x gate: {icon}", "",
           f"Baseline `{result['baseline']}` vs candidate `{result['candidate']}`, metric **{result['metric']}** (%).",
           "", "| group | baseline | candidate | change | interval | verdict |", "|---|---:|---:|---:|---|---|"]
    for v in result["groups"]:
        out.append(f"| {v['group']} | {v['baseline']:.2f} | {v['candidate']:.2f} | {v['delta']:+.2f} | "
                   f"[{v['ci_low']:+.2f}, {v['ci_high']:+.2f}] | {_label(v)} |")
    out += ["", f"Rule: {result['rule']}.", ""]
    out += [line + "\n" for line in _flip_lines(result)]
    return "\n".join(out)


def to_junit(result: dict) -> str:
    suite = ET.Element("testsuite", name="humaneval-x gate", tests=str(len(result["groups"])),
                       failures=str(sum(v["regression"] for v in result["groups"])))
    for v in result["groups"]:
        case = ET.SubElement(suite, "testcase", classname="humaneval_x.gate", name=f"{v['group']} {v['metric']}")
        msg = (f"{v['metric']} {v['baseline']:.2f} -> {v['candidate']:.2f} ({v['delta']:+.2f} pp, "
               f"interval [{v['ci_low']:+.2f}, {v['ci_high']:+.2f}])")
        if v["regression"]:
            ET.SubElement(case, "failure", message=msg, type="regression").text = result["rule"]
        else:
            ET.SubElement(case, "system-out").text = msg
    for line in _flip_lines(result):  # the flipped problems: a passing case of their own, listed
        suite.set("tests", str(int(suite.get("tests")) + 1))
        case = ET.SubElement(suite, "testcase", classname="humaneval_x.gate", name="flipped problems")
        ET.SubElement(case, "system-out").text = line
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def write_outputs(result: dict, markdown: Optional[str], junit: Optional[str], json_out: Optional[str]) -> None:
    if markdown:
        Path(markdown).write_text(to_markdown(result))
    if junit:
        Path(junit).write_text(to_junit(result))
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2))


# ------------------------------------------------------------------ gate --run: repeat the baseline's run
SAMPLING_KNOBS = ("n", "temperature", "top_p", "max_new_tokens", "seed")


def baseline_settings(baseline: Run) -> dict:
    """What made the baseline's samples: its recorded settings (summary.json "settings", or the run
    folder's run.json) and sampling parameters; {} for a summary that predates them."""
    settings = dict(baseline.summary.get("settings") or {})
    run_json = (baseline.path if baseline.path.is_dir() else baseline.path.parent) / "run.json"
    if not settings and run_json.exists():
        try:
            settings = json.loads(run_json.read_text())
        except (OSError, json.JSONDecodeError):
            settings = {}
    sampling = baseline.summary.get("sampling") or {}
    settings.update({k: sampling[k] for k in SAMPLING_KNOBS if k in sampling})
    return settings


def baseline_policy(baseline: Run) -> Optional[LimitPolicy]:
    """The baseline's time-limit policy, whatever its kind (floor, factor, wall limits; no flag spells them all),
    for `gate --run` to run the candidate under, or the gate refuses; None where it recorded none."""
    policy = (baseline.summary.get("time_limits") or {}).get("policy")
    return LimitPolicy.from_description(policy) if policy else None


def candidate_run_args(baseline: Run, preset: Optional[str] = None, limit: Optional[int] = None,
                       chat=None, **knobs) -> dict:
    """evaluate-generation arguments for `gate --run`: the baseline's own problems, sampling and prompt
    settings (so that the comparison is like for like; a greedy baseline gets a greedy candidate), each
    overridden by what the user gave. An explicit --preset replaces the baseline's sampling."""
    groups = baseline.groups()
    langs = sorted(g.split(":", 1)[1] for g in groups if g.startswith("lang:"))
    if not langs or baseline.summary.get("translation_pairs"):
        raise GateInputError("gate --run needs a generation baseline (per-language results, no translation pairs)")
    if limit is None:
        limit = max(int(t.split("/")[1]) for t in groups["overall"]["per_problem"]) + 1
    settings = baseline_settings(baseline)
    if settings.get("kind", "generation") != "generation":
        raise GateInputError(f"gate --run needs a generation baseline (this one is {settings['kind']})")
    args = {"languages": ",".join(langs), "limit": limit,
            "dataset_variant": baseline.summary.get("dataset_variant") or settings.get("dataset_variant")
            or "errata-v1"}
    if preset is None and all(k in settings for k in SAMPLING_KNOBS):
        args.update(preset="codegeex", **{k: settings[k] for k in SAMPLING_KNOBS})  # every knob set below
    else:
        args["preset"] = preset or "pass1"  # a summary without recorded sampling: the old default
    args.update({k: v for k, v in knobs.items() if v is not None})
    args["chat"] = chat if chat is not None else settings.get("chat", "auto")
    batch = (baseline.summary.get("generation") or {}).get("batch_size")
    if batch and "batch_size" not in args:  # the same waves as the baseline: same machine, same bits
        args["batch_size"] = batch
    for k in ("tag", "strip"):
        if k in settings:
            args[k] = settings[k]
    return args
