"""Loading evaluation runs from disk: a run folder, its results.jsonl, or a summary.json (baselines)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from .errors import HarnessError
from .jsonl import read_jsonl
from .metrics import DEFAULT_KS
from .summary import summarize

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
REQUIRED_FIELDS = ("dataset_variant",)  # besides per-problem counts: which problems, as which data
GROUP_FIELDS = {"per_problem", "problems", "samples", "status_counts"}
# what a run recorded that its results alone do not say: kept when scores are recomputed from results.jsonl
# (the report's header shows them: what was evaluated, how, with which images and versions, when)
CARRIED_FIELDS = ("dataset_variant", "sampling", "generation", "run_name", "time_limits", "settings", "chat",
                  "samples_file", "clean", "sandbox_images", "tool_versions", "harness_version", "python",
                  "evaluated_at")


@dataclass
class Run:
    path: Path
    summary: dict
    records: Optional[List[dict]] = None  # per-sample results, when the run folder has them

    @property
    def name(self) -> str:
        return self.summary.get("run_name") or (self.path.name if self.path.is_dir() else self.path.stem)

    def groups(self) -> Dict[str, dict]:
        """'overall', 'lang:<name>', 'pair:<src>-<tgt>' -> group summary (with per_problem counts)."""
        out = {"overall": self.summary["overall"]}
        out.update({f"lang:{k}": v for k, v in self.summary.get("languages", {}).items()})
        out.update({f"pair:{k}": v for k, v in self.summary.get("translation_pairs", {}).items()})
        return out


def load_run(path, ks=None) -> Run:
    """A run folder (results.jsonl [+ summary.json]), a results .jsonl file, or a summary .json file.

    Scores are recomputed from the results for ``ks`` (default: the ks of the stored summary)."""
    p = Path(path)
    if not p.exists():
        raise HarnessError(f"{p}: no such file or folder")
    if p.is_dir():
        results = p / RESULTS_FILE
        if results.exists():
            return _from_results(p, results, p / SUMMARY_FILE, ks)
        if (p / SUMMARY_FILE).exists():
            return _from_summary(p / SUMMARY_FILE)
        raise HarnessError(f"{p}: no {RESULTS_FILE} or {SUMMARY_FILE} in this folder")
    if p.name.endswith(".json"):
        return _from_summary(p)
    return _from_results(p.parent, p, p.parent / SUMMARY_FILE, ks)


def read_summary(path: Path) -> dict:
    """A summary.json with what report, compare and gate rely on (the dataset variant); else one line
    (HarnessError): a run is never read as if it had no variant, or over other problems."""
    if not path.exists():
        raise HarnessError(f"{path}: missing (the evaluation did not finish; rerun it into this folder)")
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not a readable summary ({exc})") from None
    if not isinstance(summary, dict):
        raise HarnessError(f"{path}: not a humaneval-x summary (not a JSON object)")
    missing = [k for k in REQUIRED_FIELDS if not isinstance(summary.get(k), str) or not summary[k]]
    if missing:
        raise HarnessError(f"{path}: not a complete humaneval-x summary (no {', '.join(missing)})")
    limits = summary.get("time_limits")  # optional (older runs), but the gate compares it when present
    if limits is not None and not (isinstance(limits, dict) and isinstance(limits.get("policy"), dict)
                                   and isinstance(limits.get("limits_cpu_s", {}), dict)):
        raise HarnessError(f"{path}: not a humaneval-x summary (time_limits without a readable policy)")
    return summary


def _from_summary(path: Path) -> Run:
    summary = read_summary(path)
    overall, parts = summary.get("overall"), [summary.get(k, {}) for k in ("languages", "translation_pairs")]
    groups = [overall] + [g for part in parts if isinstance(part, dict) for g in part.values()]
    if not all(isinstance(part, dict) for part in parts) or not all(map(_group_ok, groups)) \
            or not overall["per_problem"]:
        raise HarnessError(f"{path}: not a humaneval-x summary with per-problem counts")
    return Run(path, summary)


def _group_ok(g) -> bool:
    """A group's summary with its per-problem counts {problem: [n, c]}, 0 <= c <= n, n >= 1."""
    return isinstance(g, dict) and GROUP_FIELDS <= g.keys() and isinstance(g["per_problem"], dict) and all(
        isinstance(v, list) and len(v) == 2 and all(type(x) is int for x in v) and 0 <= v[1] <= v[0] and v[0] >= 1
        for v in g["per_problem"].values())


def _from_results(folder: Path, results: Path, summary_path: Path, ks) -> Run:
    rows = [r for _, r in read_jsonl(results, strict=True)]
    for i, r in enumerate(rows):
        if not {"task_id", "sample_index", "status", "passed", "language"} <= r.keys():
            raise HarnessError(f"{results}: record {i + 1} is not a humaneval-x result")
    # one result per sample, the last one written (as the evaluation that wrote the summary counts them)
    latest = {(r["task_id"], r.get("source_language") or "", int(r["sample_index"])): r for r in rows}
    records = list(latest.values())
    if not records:
        raise HarnessError(f"{results}: no results")
    old = read_summary(summary_path)  # the run's variant and settings: the results alone do not say
    meta = {k: old[k] for k in CARRIED_FIELDS if k in old}
    stored_ks = old.get("ks", list(DEFAULT_KS))
    if not isinstance(stored_ks, list) or not stored_ks or not all(type(k) is int and k > 0 for k in stored_ks):
        raise HarnessError(f"{summary_path}: not a humaneval-x summary (ks {stored_ks!r})")
    return Run(folder, summarize(records, ks or tuple(stored_ks), meta), records)
