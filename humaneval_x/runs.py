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


def _from_summary(path: Path) -> Run:
    try:
        summary = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not a readable summary ({exc})") from exc
    if not isinstance(summary, dict) or "per_problem" not in summary.get("overall", {}):
        raise HarnessError(f"{path}: not a humaneval-x summary with per-problem counts")
    return Run(path, summary)


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
    meta, stored_ks = {}, DEFAULT_KS
    if summary_path.exists():
        try:
            old = json.loads(summary_path.read_text())
            meta = {k: old[k] for k in ("dataset_variant", "sampling", "generation", "run_name", "time_limits") if k in old}
            stored_ks = tuple(old.get("ks", DEFAULT_KS))
        except (OSError, json.JSONDecodeError):
            pass
    return Run(folder, summarize(records, ks or stored_ks, meta), records)
