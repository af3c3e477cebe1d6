"""Run time limits as data: the policy, each problem's resolved limits, and the limits of one run.

Policy ``reference`` (the default of the evaluate commands): a problem's run limit is

    clamp(ceil(FACTOR x reference CPU seconds), FLOOR, CEILING)        (whole CPU seconds)

where the reference is the canonical solution's CPU time measured in the same sandbox image and
mode (the highest of REPETITIONS runs; measured and kept by humaneval_x/reference_times.py). CPU
time, not wall time, so a busy machine does not turn a correct program into a timeout; whole seconds
because the runner holds whole seconds (user time: runners/hxrunner/waits.py). The wall limit of a run is ``wall_for(cpu)``
(catches programs that sleep or block); compile limits are the languages' own (60 s wall), apart from
the run limits. ``flat`` gives every problem the same CPU limit (``--time-limit S``); ``language`` is
the languages' old defaults (10 s, Java 20 s).

The command line turns its flags into a ``LimitPolicy``; the caller resolves it into ``ResolvedLimits``
(reference_times.resolve) before it builds the executor, which asks them each job's ``Timeouts``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, Optional

from .errors import HarnessError
from .languages import LANGUAGES, language_of_task, task_order

# Chosen from measured data (benchmarks/RESULTS.md, "Why the 3 s floor"):
FACTOR = 5.0        # limit >= 5x the reference's CPU time
FLOOR = 3.0         # no problem below 3 CPU seconds: well above the slowest slow-but-correct variants measured
CEILING = 10.0      # no problem above 10 CPU seconds (the old default limit)
REPETITIONS = 3     # reference runs per problem; the highest counts
KINDS = ("reference", "flat", "language")


def wall_for(cpu: float) -> float:
    """The wall limit of a run with this CPU limit: room for a loaded machine, and for programs that sleep."""
    return float(max(3 * cpu, cpu + 10))


@dataclass(frozen=True)
class Timeouts:
    """The limits of one run's request (None: the language's own)."""
    compile_timeout: Optional[float] = None
    run_cpu: Optional[float] = None
    run_timeout: Optional[float] = None


@dataclass(frozen=True)
class LimitPolicy:
    kind: str = "reference"                  # reference | flat | language
    factor: float = FACTOR
    floor: float = FLOOR
    ceiling: float = CEILING
    flat: Optional[float] = None             # kind == flat: every problem's CPU limit
    run_timeout: Optional[float] = None      # wall limit of every run (default: wall_for(cpu))
    compile_timeout: Optional[float] = None  # default: the language's own
    repetitions: int = REPETITIONS

    def __post_init__(self):
        if self.kind not in KINDS:
            raise HarnessError(f"time-limit policy must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.kind == "flat" and not (self.flat and self.flat > 0):
            raise HarnessError("a flat time limit needs a positive number of seconds")
        if self.kind == "reference" and not (0 < self.floor <= self.ceiling and self.factor > 0):
            raise HarnessError(f"time limits: need 0 < floor <= ceiling and factor > 0 "
                               f"(got factor {self.factor}, floor {self.floor}, ceiling {self.ceiling})")

    @classmethod
    def from_options(cls, time_limit: Optional[float] = None, run_cpu: Optional[float] = None,
                     run_timeout: Optional[float] = None, compile_timeout: Optional[float] = None) -> "LimitPolicy":
        """The command line's flags: --time-limit S (a flat CPU limit; --run-cpu S is the same, older
        name), --run-timeout (every run's wall limit), --compile-timeout; none of them: the reference policy.
        A policy no flag spells (``gate --run`` repeats a baseline's) comes from ``from_description``."""
        if time_limit is not None and run_cpu is not None and float(time_limit) != float(run_cpu):
            raise HarnessError(f"--time-limit {time_limit} and --run-cpu {run_cpu} disagree: they are the same "
                               "limit (CPU seconds of a run); give one")
        flat = time_limit if time_limit is not None else run_cpu
        if flat is not None:
            return cls(kind="flat", flat=float(flat), run_timeout=run_timeout, compile_timeout=compile_timeout)
        return cls(run_timeout=run_timeout, compile_timeout=compile_timeout)

    @classmethod
    def from_description(cls, d: dict) -> "LimitPolicy":
        """The policy a summary recorded (``describe``'s inverse), whatever its kind: ``gate --run`` repeats a
        baseline's. HarnessError (one line) when this version cannot make a policy that describes itself the same."""
        def seconds(key):
            v = d.get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        kind = d.get("kind")
        runs = re.search(r">= (\d+) runs", str(d.get("reference", "")))
        try:
            policy = cls(kind=kind, factor=seconds("factor") or FACTOR, floor=seconds("floor_s") or FLOOR,
                         ceiling=seconds("ceiling_s") or CEILING, flat=seconds("cpu_s") if kind == "flat" else None,
                         run_timeout=seconds("run_timeout_s"), compile_timeout=seconds("compile_timeout_s"),
                         repetitions=int(runs.group(1)) if runs else REPETITIONS)
        except HarnessError as exc:
            raise HarnessError(f"the recorded time-limit policy {policy_text(d)} cannot be repeated: {exc}") from None
        if policy.describe() != d:
            raise HarnessError(f"the recorded time-limit policy {policy_text(d)} cannot be repeated by this version "
                               f"(it would run {policy_text(policy.describe())})")
        return policy

    def text(self) -> str:
        return policy_text(self.describe())

    def cpu_limit(self, reference_cpu: Optional[float]) -> float:
        """A problem's CPU limit (whole seconds) from its reference CPU time (None: not measurable: ceiling)."""
        if self.kind == "flat":
            return float(self.flat)
        if reference_cpu is None:
            return float(self.ceiling)
        return float(min(self.ceiling, max(self.floor, math.ceil(self.factor * reference_cpu))))

    def describe(self) -> dict:
        """What two runs must share to be compared (the gate checks it); per-problem limits are apart."""
        if self.kind == "flat":
            d = {"kind": "flat", "cpu_s": self.flat}
        elif self.kind == "language":
            d = {"kind": "language"}
        else:
            d = {"kind": "reference", "factor": self.factor, "floor_s": self.floor, "ceiling_s": self.ceiling,
                 "reference": f"highest CPU seconds of >= {self.repetitions} runs of the canonical solution, same image and mode"}
        d["run_timeout_s"] = self.run_timeout if self.run_timeout else ("language" if self.kind == "language"
                                                                        else "max(3 x cpu, cpu + 10)")
        d["compile_timeout_s"] = self.compile_timeout or "language"
        return d


@dataclass
class ResolvedLimits:
    """Per-problem limits of one run: what the executor asks for, and what the summary records."""
    policy: LimitPolicy
    cpu: Dict[str, float] = field(default_factory=dict)          # task_id -> CPU limit
    reference_cpu: Dict[str, Optional[float]] = field(default_factory=dict)
    sources: Dict[str, dict] = field(default_factory=dict)       # language -> where its references came from

    def timeouts(self, task_id: str, language: str) -> Timeouts:
        p = self.policy
        if p.kind == "language":
            return Timeouts(compile_timeout=p.compile_timeout, run_timeout=p.run_timeout)
        if task_id not in self.cpu:
            raise HarnessError(f"no time limit resolved for {task_id} (reference_times.resolve was not given it)")
        cpu = self.cpu[task_id]
        return Timeouts(compile_timeout=p.compile_timeout or LANGUAGES[language].compile_timeout,
                        run_cpu=cpu, run_timeout=p.run_timeout or wall_for(cpu))

    def merged(self, other: "ResolvedLimits") -> "ResolvedLimits":
        """These limits with ``other``'s (same policy) added: a long-lived executor's limits grow with its work."""
        if other.policy != self.policy:
            raise HarnessError(f"cannot merge limits of two policies ({self.policy.text()}; {other.policy.text()})")
        return ResolvedLimits(self.policy, {**self.cpu, **other.cpu}, {**self.reference_cpu, **other.reference_cpu},
                              {**self.sources, **other.sources})

    def summary(self) -> dict:
        def in_task_order(d):
            return {t: d[t] for t in sorted(d, key=task_order)}
        out = {"policy": self.policy.describe(), "limits_cpu_s": in_task_order(self.cpu)}
        if self.policy.kind == "reference":
            out["reference_cpu_s"] = in_task_order(self.reference_cpu)
            out["reference_sources"] = self.sources
        return out


def compare_time_limits(base: Optional[dict], cand: Optional[dict], base_timeouts: Optional[int] = None,
                        cand_timeouts: Optional[int] = None):
    """(refusal or None, warning or None) for gating two runs' summaries' ``time_limits`` records.

    Different policies (kind, factor, floor, ceiling, flat limit, wall or compile limits) are refused:
    a different limit can turn the same program into a timeout. Except where that cannot have happened
    (``bridged``): every limit of one run is at most the other's and that run had no timeout at all
    (``*_timeouts``: its count of `timeout` verdicts), so each of its programs ended within its limits
    and would have got the same verdict under the other's (a warning says so). Same policy with different
    per-problem limits (references measured on other machines or images) is a warning."""
    if not base or not cand:
        which = "baseline" if not base else "candidate"
        if not base and not cand:
            return None, None
        return None, (f"the {which} records no time-limit policy (made before policies were recorded); the "
                      f"other used {policy_text((cand or base)['policy'])}: timeouts may differ between them")
    bp, cp = base.get("policy"), cand.get("policy")
    if bp != cp:
        bridge = bridged(base, cand, base_timeouts, cand_timeouts)
        if bridge:
            return None, bridge
        return (f"the runs used different time-limit policies: baseline {policy_text(bp)}, candidate "
                f"{policy_text(cp)}; a timeout under one may pass under the other, so they are not gated "
                "against each other (rerun the candidate under the baseline's policy: `gate --run` does, whatever its "
                "kind; --time-limit S gives a flat one)"), None
    bl, cl = base.get("limits_cpu_s") or {}, cand.get("limits_cpu_s") or {}
    diff = sorted(t for t in set(bl) & set(cl) if bl[t] != cl[t])
    if diff:
        return None, (f"same time-limit policy, but {len(diff)} problem(s) got different CPU limits (reference "
                      f"times measured on other images or machines), e.g. " +
                      ", ".join(f"{t} {bl[t]:g} s vs {cl[t]:g} s" for t in diff[:3]))
    return None, None


def _limit_triples(record: dict) -> Optional[Dict[str, tuple]]:
    """task_id -> (CPU, wall, compile) limits a run recorded (compile None: the language's own), or None
    where the record does not say them all."""
    policy, cpu = record.get("policy") or {}, record.get("limits_cpu_s")
    if policy.get("kind") not in ("reference", "flat") or not isinstance(cpu, dict) or not cpu:
        return None
    run, comp = policy.get("run_timeout_s"), policy.get("compile_timeout_s")
    if not (isinstance(run, (int, float)) or run == "max(3 x cpu, cpu + 10)"):
        return None
    if not (isinstance(comp, (int, float)) or comp == "language"):
        return None
    out = {}
    for task, c in cpu.items():
        if not isinstance(c, (int, float)):
            return None
        try:
            lang_compile = language_of_task(task).compile_timeout
        except Exception:
            return None
        out[task] = (float(c), float(run) if isinstance(run, (int, float)) else wall_for(c),
                     float(comp) if isinstance(comp, (int, float)) else lang_compile)
    return out


def bridged(base: dict, cand: dict, base_timeouts: Optional[int], cand_timeouts: Optional[int]) -> Optional[str]:
    """A warning when two different policies cannot have given the runs different verdicts: one run's CPU, wall
    and compile limits are each at most the other's, problem by problem, and that run had no timeout (so its
    programs ended within its limits, and within the other's larger ones); else None (refused)."""
    bl, cl = _limit_triples(base), _limit_triples(cand)
    if not bl or not cl or set(bl) != set(cl):
        return None
    for name, small, large, timeouts in (("baseline", bl, cl, base_timeouts), ("candidate", cl, bl, cand_timeouts)):
        if timeouts == 0 and all(s <= g for t in small for s, g in zip(small[t], large[t])):
            other = "candidate" if name == "baseline" else "baseline"
            return (f"the runs used different time-limit policies (baseline {policy_text(base.get('policy'))}; "
                    f"candidate {policy_text(cand.get('policy'))}), but every limit of the {name} is at most the "
                    f"{other}'s and the {name} had no timeout: its verdicts are those the {other}'s limits give")
    return None


def policy_text(p: Optional[dict]) -> str:
    """A recorded policy (``LimitPolicy.describe``) in one line."""
    if not p:
        return "none recorded"
    return p.get("kind", "?") + " (" + ", ".join(f"{k} {v}" for k, v in p.items() if k != "kind") + ")"
