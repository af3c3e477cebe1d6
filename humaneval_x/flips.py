"""The flip audit: a program run several times under the same settings, and every program whose status
differed between runs reported, with all its verdicts (issue 26: a verdict is a fact).

``--repeat N`` runs each distinct program N times (in N rounds over the run's programs, so the
repeats of one program meet different workers and moments); ``combine`` makes the N outcomes one
result that keeps every verdict; ``summarize_flips`` lists the flipping programs per problem and
language for summary.json, the printed table, the report and the gate. The results cache keeps
every status it has seen for a program (``ResultCache.put`` merges), so a flip seen once stays
visible in later runs that reuse the cache instead of being replaced by whichever verdict came first.

How a flipping program is scored (pass@k needs one status per sample): ``passed`` only if every run
passed (a program that fails some runs is not a correct program), else the most frequent other
status (ties: the order of STATUSES). A harness error in any run makes the result a harness error
(its audit is incomplete; resume runs it again), never a verdict.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Optional

from .sandbox.base import STATUSES

OBSERVED = "hx_observed"  # in a cached outcome: {status: runs} of every run that stored it


def scored_status(statuses: List[str]) -> str:
    if "harness_error" in statuses:
        return "harness_error"
    if all(s == "passed" for s in statuses):
        return "passed"
    counts = Counter(s for s in statuses if s != "passed")
    return max(counts, key=lambda s: (counts[s], -STATUSES.index(s)))


def combine(outcomes: List[dict]) -> dict:
    """One outcome from the outcomes of N runs of the same program: the first of the scored status,
    with ``verdicts`` (every run's status, in the order they ended), ``repeats`` and ``flipped``."""
    statuses = [o.get("status") or "harness_error" for o in outcomes]
    status = scored_status(statuses)
    first = next(o for o, s in zip(outcomes, statuses) if s == status)
    return dict(first, verdicts=statuses, repeats=len(statuses), flipped=is_flip(statuses))


def is_flip(statuses: Iterable[str]) -> bool:
    return len({s for s in statuses if s != "harness_error"}) > 1


def from_cache(outcome: dict) -> dict:
    """A cached outcome as delivered: a program the cache saw with several statuses is a flip, reported
    with them all (expanded from their counts), scored as ``combine`` scores it."""
    observed = outcome.get(OBSERVED)
    clean = {k: v for k, v in outcome.items() if k != OBSERVED}
    if not observed or len(observed) < 2:
        return clean
    statuses = [s for s, n in sorted(observed.items(), key=lambda kv: STATUSES.index(kv[0])) for _ in range(n)]
    return dict(clean, status=scored_status(statuses), verdicts=statuses, repeats=len(statuses), flipped=True,
                detail=f"{clean.get('detail') or ''} [flips between runs: {', '.join(statuses)}]".strip())


def merge_observed(old: Optional[dict], new: dict) -> dict:
    """What the cache stores after ``new`` ran: the old outcome (the first kept) with every status seen."""
    seen = Counter((old or {}).get(OBSERVED) or ({old["status"]: 1} if old else {}))
    seen[new["status"]] += 1
    base = dict(old) if old else dict(new)
    base[OBSERVED] = dict(seen)
    return base


def summarize_flips(records: List[dict]) -> Optional[dict]:
    """summary.json's ``flips`` (None when no record was audited or came with a known flip)."""
    audited = [r for r in records if r.get("verdicts")]
    if not audited:
        return None
    programs: Dict[str, dict] = {}
    for r in audited:
        if not r.get("flipped"):
            continue
        key = f"{r.get('source_language') or ''}:{r['task_id']}:{r.get('program_sha256')}"
        p = programs.setdefault(key, {"task_id": r["task_id"], "language": r["language"],
                                      "source_language": r.get("source_language"),
                                      "program_sha256": r.get("program_sha256"), "sample_indices": [],
                                      "verdicts": r["verdicts"], "scored": r["status"],
                                      "pass_fail": "passed" in r["verdicts"] and len(set(r["verdicts"])) > 1})
        p["sample_indices"].append(r["sample_index"])
    by_problem: Dict[str, List[dict]] = defaultdict(list)
    for p in programs.values():
        by_problem[p["task_id"]].append({k: v for k, v in p.items() if k not in ("task_id", "language")})
    lang_count = Counter(p["language"] for p in programs.values())
    return {"repeats": max(r.get("repeats") or 1 for r in audited),
            "programs_audited": len({r.get("program_sha256") for r in audited}),
            "programs_flipped": len(programs),
            "pass_fail_flips": sum(p["pass_fail"] for p in programs.values()),
            "status_only_flips": sum(not p["pass_fail"] for p in programs.values()),
            "by_language": dict(sorted(lang_count.items())),
            "problems": dict(sorted(by_problem.items(), key=lambda kv: (kv[0].split("/")[0], int(kv[0].split("/")[1]))))}


def flipped_problems(summary: dict) -> List[str]:
    return list(((summary or {}).get("flips") or {}).get("problems") or {})


def format_flips(flips: Optional[dict]) -> str:
    """The printed lines under the table: every flipping program with its verdicts."""
    if not flips:
        return ""
    head = (f"flip audit: {flips['programs_audited']} distinct programs x {flips['repeats']} runs: "
            f"{flips['programs_flipped']} flipped ({flips['pass_fail_flips']} between passed and not, "
            f"{flips['status_only_flips']} between other statuses)")
    lines = [head]
    for task_id, progs in flips["problems"].items():
        for p in progs:
            lines.append(f"  FLIP {task_id} program {str(p['program_sha256'])[:12]} samples "
                         f"{','.join(map(str, p['sample_indices'][:8]))}{'...' if len(p['sample_indices']) > 8 else ''}: "
                         f"{' '.join(p['verdicts'])} -> scored {p['scored']}")
    return "\n".join(lines)
