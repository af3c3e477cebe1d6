"""How often does `humaneval-x gate` fire? A planning table for CI budgets, simulated with the gate's own bootstrap.

For n samples per problem (1 = greedy, 20 = pass1 preset, 200 = codegeex preset) the script draws
pairs of runs over P problems (default 820: all five languages, gated overall) and applies the
gate's rule (``humaneval_x.gate.bootstrap_change`` + ``regresses``, pass@1, the same defaults as the
CLI: 95% interval, --max-drop 1.0) to each pair:

- no real change: baseline and candidate draw their correct counts from the same per-problem pass
  rates; the share of pairs flagged is the false-alarm rate;
- a real drop of d points: the candidate's rates are the baseline's scaled by (1 - d / mean rate), so
  its expected pass@1 is exactly d percentage points lower; the share flagged is the power.

Per-problem pass rates are drawn from a Beta distribution with the given mean and a U shape (most
problems are almost always or almost never solved, as on HumanEval-X), afresh for every pair.
Each cell is a share of --sims pairs (binomial standard error at most 0.5/sqrt(sims)); the bootstrap
uses --rounds rounds (the CLI uses 2000; fewer keep this script quick and barely move the interval).

    python benchmarks/gate_power.py [--sims 200] [--rounds 500] [--problems 820] [--mean 0.3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from humaneval_x.gate import bootstrap_change, regresses  # noqa: E402

NS = (1, 20, 200)
DROPS = (0.0, 2.0, 4.0, 8.0)


def pass_rates(rng, problems: int, mean: float, concentration: float) -> np.ndarray:
    return rng.beta(mean * concentration, (1 - mean) * concentration, problems)


def flagged_share(n: int, drop: float, args, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for sim in range(args.sims):
        p = pass_rates(rng, args.problems, args.mean, args.concentration)
        q = p * (1 - drop / (100 * p.mean()))
        base = np.stack([np.full(args.problems, n), rng.binomial(n, p)], axis=1)
        cand = np.stack([np.full(args.problems, n), rng.binomial(n, q)], axis=1)
        _, _, _, hi = bootstrap_change(base, cand, k=1, confidence=args.confidence, rounds=args.rounds,
                                       seed=int(rng.integers(1 << 31)))
        hits += regresses(hi, args.max_drop)
    return hits / args.sims


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=200, help="simulated run pairs per cell")
    ap.add_argument("--rounds", type=int, default=500, help="bootstrap rounds per gate call (CLI: 2000)")
    ap.add_argument("--problems", type=int, default=820)
    ap.add_argument("--mean", type=float, default=0.3, help="mean per-problem pass rate (pass@1 of the baseline)")
    ap.add_argument("--concentration", type=float, default=1.0,
                    help="Beta a+b of the per-problem rates (small: U-shaped)")
    ap.add_argument("--max-drop", type=float, default=1.0)
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument("--ns", default=",".join(map(str, NS)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the table as JSON here")
    args = ap.parse_args(argv)
    ns = [int(x) for x in args.ns.split(",")]
    t0 = time.monotonic()
    table = {}
    for i, n in enumerate(ns):
        table[n] = {d: flagged_share(n, d, args, seed=args.seed * 1000 + i * 10 + j) for j, d in enumerate(DROPS)}
    seconds = time.monotonic() - t0
    print(f"gate: pass@1, {args.confidence:.0%} paired two-level bootstrap ({args.rounds} rounds), "
          f"--max-drop {args.max_drop:g}, {args.problems} problems gated overall; per-problem pass rates "
          f"~ Beta(mean {args.mean:g}, a+b {args.concentration:g}); {args.sims} simulated run pairs per cell "
          f"({seconds:.0f} s)\n")
    print("| n per problem | flagged, no real change | caught, real drop 2 pts | 4 pts | 8 pts |")
    print("|---:|---:|---:|---:|---:|")
    for n in ns:
        row = table[n]
        print(f"| {n} | " + " | ".join(f"{row[d]:.0%}" for d in DROPS) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "seconds": round(seconds, 1),
                                               "flagged": {str(n): {str(d): v for d, v in r.items()}
                                                           for n, r in table.items()}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
