#!/usr/bin/env python3
"""Slow but correct solutions against the time-limit policy: are correct programs turned into timeouts?

For the problems with the heaviest tests (the highest reference CPU times per language, and the
tests that reach big numbers: prime_fib's 10th value is 433494437), variants a model plausibly
writes that are correct but slower than the canonical solution: trial division up to p (or p/2)
instead of sqrt(p), all triples instead of primes only, naive recursion instead of a table, quadratic
string building. Each runs --repetitions times under flat ceiling limits (10 s CPU) to get its CPU
time (highest of the runs), then once under the policy; printed: CPU time, the problem's policy
limit, the margin (limit / CPU time) and both verdicts.

    HUMANEVAL_X_DATA=../shared/humaneval-x nice -n 10 python benchmarks/slow_correct.py [--repetitions 3] [--json benchmarks/results/slow-correct-2core.json]
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hx_bench_common import present_factory  # noqa: E402

PY_PRIME_FIB = '''    def is_prime(p):
        if p < 2:
            return False
        for k in range(2, {bound}):
            if p % k == 0:
                return False
        return True
    f = [0, 1]
    while True:
        f.append(f[-1] + f[-2])
        if is_prime(f[-1]):
            n -= 1
        if n == 0:
            return f[-1]
'''
PY_MULTIPLY_PRIME = '''    def is_prime(n):
        for j in range(2, n):
            if n % j == 0:
                return False
        return True
    for i in range(2, 101):
        for j in range(2, 101):
            for k in range(2, 101):
                if i * j * k == a and is_prime(i) and is_prime(j) and is_prime(k):
                    return True
    return False
'''
PY_MAX_TRIPLES = '''    A = [i * i - i + 1 for i in range(1, n + 1)]
    triples = []
    for i in range(n):
        for j in range(n):
            for k in range(n):
                if i < j < k and (A[i] + A[j] + A[k]) % 3 == 0:
                    triples.append((A[i], A[j], A[k]))
    return len(triples)
'''
CPP_PRIME_FIB = '''    int a = 1, b = 1;
    while (true) {{
        int c = a + b; a = b; b = c;
        bool isprime = c >= 2;
        for (int w = 2; {cond}; w++)
            if (c % w == 0) {{ isprime = false; break; }}
        if (isprime) {{ n -= 1; if (n == 0) return c; }}
    }}
}}
'''
CPP_FIBFIB = '''    if (n == 0 || n == 1) return 0;
    if (n == 2) return 1;
    return fibfib(n - 1) + fibfib(n - 2) + fibfib(n - 3);
}
'''
CPP_MULTIPLY_PRIME = '''    for (int i = 2; i < 101; i++)
        for (int j = 2; j < 101; j++)
            for (int k = 2; k < 101; k++) {
                if (i * j * k != a) continue;
                bool ok = true;
                int v[3] = {i, j, k};
                for (int t = 0; t < 3; t++)
                    for (int d = 2; d < v[t]; d++)
                        if (v[t] % d == 0) ok = false;
                if (ok) return true;
            }
    return false;
}
'''
JAVA_PRIME_FIB = '''        int a = 1, b = 1;
        while (true) {{
            int c = a + b; a = b; b = c;
            boolean isPrime = c >= 2;
            for (int w = 2; {cond}; w++) {{
                if (c % w == 0) {{ isPrime = false; break; }}
            }}
            if (isPrime) {{ n -= 1; if (n == 0) return c; }}
        }}
    }}
}}
'''
JAVA_FIZZ_BUZZ = '''        String s = "";
        for (int i = 0; i < n; i++) {
            if (i % 11 == 0 || i % 13 == 0) {
                s += i;
            }
        }
        int count = 0;
        for (int k = 0; k < s.length(); k++) {
            if (s.charAt(k) == '7') count++;
        }
        return count;
    }
}
'''
JAVA_MULTIPLY_PRIME = '''        for (int i = 2; i < 101; i++)
            for (int j = 2; j < 101; j++)
                for (int k = 2; k < 101; k++)
                    if (i * j * k == a && isPrime(i) && isPrime(j) && isPrime(k)) return true;
        return false;
    }
    boolean isPrime(int n) {
        for (int d = 2; d < n; d++) if (n % d == 0) return false;
        return true;
    }
}
'''
JS_PRIME_FIB = '''  let a = 1, b = 1;
  while (true) {{
    const c = a + b; a = b; b = c;
    let isPrime = c >= 2;
    for (let w = 2; {cond}; w++) {{ if (c % w == 0) {{ isPrime = false; break; }} }}
    if (isPrime) {{ n -= 1; if (n == 0) return c; }}
  }}
}}
'''
JS_MULTIPLY_PRIME = '''  const isPrime = (n) => { for (let d = 2; d < n; d++) if (n % d == 0) return false; return true; };
  for (let i = 2; i < 101; i++)
    for (let j = 2; j < 101; j++)
      for (let k = 2; k < 101; k++)
        if (i * j * k == a && isPrime(i) && isPrime(j) && isPrime(k)) return true;
  return false;
}
'''
GO_PRIME_FIB = '''    _ = math.Sqrt
    a, b := 1, 1
    for {{
        c := a + b
        a, b = b, c
        isPrime := c >= 2
        for w := 2; {cond}; w++ {{
            if c%w == 0 {{
                isPrime = false
                break
            }}
        }}
        if isPrime {{
            n--
            if n == 0 {{
                return c
            }}
        }}
    }}
}}
'''
GO_MULTIPLY_PRIME = '''    isPrime := func(n int) bool {
        for d := 2; d < n; d++ {
            if n%d == 0 {
                return false
            }
        }
        return true
    }
    for i := 2; i < 101; i++ {
        for j := 2; j < 101; j++ {
            for k := 2; k < 101; k++ {
                if i*j*k == a && isPrime(i) && isPrime(j) && isPrime(k) {
                    return true
                }
            }
        }
    }
    return false
}
'''

VARIANTS = [
    ("Python/39", "trial division up to p/2", PY_PRIME_FIB.format(bound="p // 2 + 1")),
    ("Python/39", "trial division up to p", PY_PRIME_FIB.format(bound="p")),
    ("Python/75", "all triples, primality checked last", PY_MULTIPLY_PRIME),
    ("Python/147", "all n^3 index triples, list of triples", PY_MAX_TRIPLES),
    ("CPP/39", "trial division up to p/2", CPP_PRIME_FIB.format(cond="w <= c / 2")),
    ("CPP/39", "trial division up to p", CPP_PRIME_FIB.format(cond="w < c")),
    ("CPP/63", "naive recursion instead of a table", CPP_FIBFIB),
    ("CPP/75", "all triples, primality checked last", CPP_MULTIPLY_PRIME),
    ("Java/39", "trial division up to p/2", JAVA_PRIME_FIB.format(cond="w <= c / 2")),
    ("Java/39", "trial division up to p", JAVA_PRIME_FIB.format(cond="w < c")),
    ("Java/36", "quadratic String +=", JAVA_FIZZ_BUZZ),
    ("Java/75", "all triples, primality checked last", JAVA_MULTIPLY_PRIME),
    ("JavaScript/39", "trial division up to p/2", JS_PRIME_FIB.format(cond="w <= c / 2")),
    ("JavaScript/39", "trial division up to p", JS_PRIME_FIB.format(cond="w < c")),
    ("JavaScript/75", "all triples, primality checked last", JS_MULTIPLY_PRIME),
    ("Go/39", "trial division up to p/2", GO_PRIME_FIB.format(cond="w <= c/2")),
    ("Go/39", "trial division up to p", GO_PRIME_FIB.format(cond="w < c")),
    ("Go/75", "all triples, primality checked last", GO_MULTIPLY_PRIME),
]


def main():
    from humaneval_x import limits, reference_times
    from humaneval_x.dataset import load_problems
    from humaneval_x.execute import Executor, Timeouts, make_job
    from humaneval_x.samples import Sample

    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    problems = load_problems()
    factory, tags = present_factory()
    jobs = [make_job(Sample(t, i, code), problems[t], clean=False) for i, (t, _, code) in enumerate(VARIANTS)]
    ceiling = Executor(factory, a.workers, Timeouts(run_cpu=limits.CEILING, run_timeout=limits.wall_for(limits.CEILING)))
    runs = {i: [] for i in range(len(VARIANTS))}
    for _ in range(a.repetitions):
        ceiling.run(jobs, lambda r: runs[r["sample_index"]].append(r))
    resolved = reference_times.resolve(limits.LimitPolicy(), [j.sample.task_id for j in jobs], problems,
                                       reference_times.measurer(factory, a.workers), log=print)
    policy = Executor(factory, a.workers, limits=resolved)
    pol = {}
    policy.run(jobs, lambda r: pol.__setitem__(r["sample_index"], r))
    tl = policy.limits_summary()
    rows = []
    for i, (t, what, _) in enumerate(VARIANTS):
        cpus = [(r.get("run") or {}).get("cpu_s") for r in runs[i]]
        statuses = sorted({r["status"] for r in runs[i]})
        cpu = max(c for c in cpus if c is not None) if any(c is not None for c in cpus) else None
        limit = tl["limits_cpu_s"][t]
        rows.append({"task_id": t, "variant": what, "ceiling_statuses": statuses, "cpu_s_max": cpu,
                     "cpu_s_runs": cpus, "reference_cpu_s": tl["reference_cpu_s"][t], "policy_limit_s": limit,
                     "margin": round(limit / cpu, 2) if cpu else None, "policy_status": pol[i]["status"],
                     "policy_cpu_s": (pol[i].get("run") or {}).get("cpu_s"),
                     "detail": (runs[i][0].get("detail") or "")[:160]})
        r = rows[-1]
        print(f"{t:<14} {what:<40} ceiling {'/'.join(statuses):<8} cpu {cpu if cpu is not None else float('nan'):7.3f} s "
              f"(ref {r['reference_cpu_s']}) limit {limit:g} s margin {r['margin']}x  policy {r['policy_status']}")
    if a.json:
        Path(a.json).write_text(json.dumps({"images": tags, "policy": tl["policy"], "repetitions": a.repetitions,
                                            "variants": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
