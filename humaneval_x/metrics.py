"""Unbiased pass@k (Chen et al., 2021), computed per problem and averaged."""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

DEFAULT_KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass@{k} needs k <= n (n={n})")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Sequence[Tuple[int, int]], ks: Iterable[int] = DEFAULT_KS) -> Dict[str, float]:
    """{'pass@k': mean over problems} for (n, c) per problem; only for k <= every problem's n."""
    if not counts:
        return {}
    min_n = min(n for n, _ in counts)
    out = {}
    for k in ks:
        if k <= min_n:
            out[f"pass@{k}"] = float(np.mean([pass_at_k(n, c, k) for n, c in counts]))
    return out


def per_problem_pass_at_k(counts: Sequence[Tuple[int, int]], k: int) -> List[float]:
    return [pass_at_k(n, c, k) for n, c in counts]
