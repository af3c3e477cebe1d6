"""The fast execution paths (fork server, PCH, compile server, dedupe, results cache) give the
same verdicts as the naive one-process-per-program path, on passing and failing programs."""
import pytest

from humaneval_x.execute import Executor, Timeouts, docker_factory, make_job
from humaneval_x.result_cache import ResultCache
from humaneval_x.samples import Sample
from humaneval_x.selfcheck import WRONG

pytestmark = pytest.mark.docker


def jobs_for(problems, lang, prefix):
    jobs = [make_job(Sample(f"{prefix}/{i}", 0, problems[f"{prefix}/{i}"].canonical_solution),
                     problems[f"{prefix}/{i}"], clean=False) for i in range(4)]
    p0 = problems[f"{prefix}/0"]
    jobs += [make_job(Sample(p0.task_id, i + 1, code), p0, clean=False) for i, (_, code, _) in enumerate(WRONG[lang])]
    # a duplicate of a canonical program: executed once on the fast path
    jobs.append(make_job(Sample(p0.task_id, 99, p0.canonical_solution), p0, clean=False))
    return jobs


def run(jobs, **kw):
    out = {}
    ex = Executor(docker_factory(), workers=2, timeouts=Timeouts(run_cpu=2, run_timeout=8), **kw)
    ex.run(jobs, lambda r: out.__setitem__((r["task_id"], r["sample_index"]), r))
    return out, ex


@pytest.mark.parametrize("lang,prefix", [("python", "Python"), ("cpp", "CPP"), ("java", "Java"), ("go", "Go")])
def test_fast_equals_naive(problems, docker_client, tmp_path, lang, prefix):
    jobs = jobs_for(problems, lang, prefix)
    naive, nex = run(jobs, naive=True)
    cache = ResultCache(tmp_path / "c.sqlite")
    fast, fex = run(jobs, cache=cache)
    assert {k: r["status"] for k, r in fast.items()} == {k: r["status"] for k, r in naive.items()}
    assert nex.executed == len(jobs) and fex.executed == len(jobs) - 1  # the duplicate ran once
    assert fast[(f"{prefix}/0", 99)]["reused_result"]
    again, aex = run(jobs, cache=cache)  # a second run: every verdict from the cache
    assert aex.executed == 0 and aex.cache_hits == len(jobs) - 1
    assert {k: r["status"] for k, r in again.items()} == {k: r["status"] for k, r in naive.items()}
    expected = {(f"{prefix}/0", i + 1): status for i, (_, _, status) in enumerate(WRONG[lang])}
    assert {k: fast[k]["status"] for k in expected} == expected
