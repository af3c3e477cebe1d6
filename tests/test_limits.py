"""The time-limit policy: per-problem limits from reference times, their cache, the summary record, the gate.

Correctness only (no timings): which limit a problem gets, where it comes from, that the run really
gets it (the CPU time at which an endless loop is stopped), and that runs under different policies
are never gated against each other silently.
"""
import json

import pytest

from humaneval_x import limits, reference_times
from humaneval_x.errors import HarnessError
from humaneval_x.gate import GateInputError, gate
from humaneval_x.limits import LimitPolicy, compare_time_limits
from humaneval_x.runs import load_run
from humaneval_x.summary import summarize


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANEVAL_X_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(reference_times, "SHIPPED_FILE", tmp_path / "no-shipped.json")
    return tmp_path / "cache"


# ------------------------------------------------------------------ the rule
def test_limit_is_factor_times_reference_clamped_to_whole_seconds():
    p = LimitPolicy(factor=5, floor=2, ceiling=10)
    assert p.cpu_limit(0.01) == 2          # floor
    assert p.cpu_limit(0.5) == 3           # ceil(2.5)
    assert p.cpu_limit(1.0) == 5
    assert p.cpu_limit(1.01) == 6          # ceil(5.05): never below factor x reference
    assert p.cpu_limit(7.0) == 10          # ceiling
    assert p.cpu_limit(None) == 10         # no usable reference: the ceiling
    assert LimitPolicy(kind="flat", flat=4).cpu_limit(0.01) == 4
    assert limits.wall_for(2) == 12 and limits.wall_for(10) == 30


def test_reference_value_is_the_highest_run_and_needs_every_run_passed():
    assert reference_times.reference_value({"cpu_s": [0.1, 0.3, 0.2], "status": ["passed"] * 3}) == 0.3
    assert reference_times.reference_value({"cpu_s": [0.1, 0.3], "status": ["passed", "timeout"]}) is None
    assert reference_times.reference_value({"cpu_s": [None], "status": ["passed"]}) is None
    assert reference_times.reference_value(None) is None


def test_options_time_limit_run_cpu_and_default():
    assert LimitPolicy.from_options().kind == "reference"
    flat = LimitPolicy.from_options(time_limit=3)
    assert flat.kind == "flat" and flat.flat == 3.0
    assert LimitPolicy.from_options(run_cpu=3) == flat                 # the older name of the same limit
    assert LimitPolicy.from_options(time_limit=3, run_cpu=3) == flat
    with pytest.raises(HarnessError, match="disagree"):
        LimitPolicy.from_options(time_limit=3, run_cpu=4)
    assert LimitPolicy.from_options(run_timeout=7).run_timeout == 7
    with pytest.raises(HarnessError):
        LimitPolicy(floor=5, ceiling=2)
    with pytest.raises(HarnessError):
        LimitPolicy(kind="flat")


def test_resolved_limits_give_the_requests_their_problem_limit():
    from humaneval_x.execute import make_request
    from humaneval_x.languages import LANGUAGES
    res = limits.ResolvedLimits(LimitPolicy(), cpu={"Python/3": 4.0})
    t = res.timeouts("Python/3", "python")
    req = make_request(LANGUAGES["python"], "x", "print(1)", t)
    assert (req.run_cpu, req.run_timeout, req.compile_timeout) == (4.0, 14.0, 60.0)
    with pytest.raises(HarnessError):
        res.timeouts("Python/4", "python")
    grown = res.merged(limits.ResolvedLimits(LimitPolicy(), cpu={"Python/4": 3.0}))
    assert grown.cpu == {"Python/3": 4.0, "Python/4": 3.0} and res.cpu == {"Python/3": 4.0}
    with pytest.raises(HarnessError, match="two policies"):
        res.merged(limits.ResolvedLimits(LimitPolicy(kind="flat", flat=2)))


def test_flat_and_language_policies_resolve_without_measuring():
    flat = reference_times.resolve(LimitPolicy(kind="flat", flat=4), ["Python/3", "Java/1"], {}, measurer=None)
    assert flat.cpu == {"Python/3": 4.0, "Java/1": 4.0}
    lang = reference_times.resolve(LimitPolicy(kind="language"), ["Python/3", "Java/1"], {}, measurer=None)
    assert lang.cpu == {"Python/3": 10.0, "Java/1": 20.0}
    assert lang.summary() == {"policy": LimitPolicy(kind="language").describe(), "limits_cpu_s": lang.cpu}


# ------------------------------------------------------------------ where references come from
class _NoSandboxMeasurer:
    """A measurer without any sandbox: every reference must come from a file."""
    naive = False

    def image_id(self, lang):
        return "sha256:test-image-" + lang

    def run(self, jobs, on_result, progress=None):
        raise AssertionError("nothing should be measured")


def test_shipped_reference_times_are_used_for_their_image(problems, cache_dir, tmp_path):
    p = problems["Python/3"]
    key = reference_times.entry_key(reference_times.canonical_job(p), naive=False)
    shipped = tmp_path / "shipped.json"
    shipped.write_text(json.dumps({"format": 1, "images": {"sha256:test-image-python": {
        "language": "python", "entries": {key: {"cpu_s": [0.4, 0.9, 0.5], "status": ["passed"] * 3}}}}}))
    reference_times.SHIPPED_FILE = shipped
    res = reference_times.resolve(LimitPolicy(factor=5, floor=2, ceiling=10), ["Python/3"], problems,
                                  _NoSandboxMeasurer())
    assert res.cpu == {"Python/3": 5.0} and res.reference_cpu == {"Python/3": 0.9}
    assert res.sources["python"]["from_shipped"] == 1 and res.sources["python"]["measured_now"] == 0
    # the cache file named relative to the cache folder: summary.json holds no path of this machine
    assert res.sources["python"]["file"] == "reference-times/" + reference_times.reference_path("sha256:test-image-python").name
    # copied into the image's cache file: later runs read it from there
    cached = json.loads(reference_times.reference_path("sha256:test-image-python").read_text())
    assert key in cached["entries"]
    shipped.unlink()
    again = reference_times.resolve(LimitPolicy(factor=5, floor=2, ceiling=10), ["Python/3"], problems,
                                    _NoSandboxMeasurer())
    assert again.cpu == {"Python/3": 5.0} and again.sources["python"]["from_cache"] == 1


def test_a_changed_canonical_solution_is_not_served_an_old_reference(problems, cache_dir, monkeypatch):
    """Entries are keyed by the assembled program's hash: another variant's canonical is measured anew."""
    from dataclasses import replace
    p = problems["Python/3"]
    key = reference_times.entry_key(reference_times.canonical_job(p), naive=False)
    reference_times._write_atomic(reference_times.reference_path("sha256:test-image-python"), {
        "format": 1, "entries": {key: {"cpu_s": [0.9], "status": ["passed"]}}})
    changed = replace(p, canonical_solution=p.canonical_solution + "\n")
    assert reference_times.entry_key(reference_times.canonical_job(changed), naive=False) != key
    assert reference_times.entry_key(reference_times.canonical_job(p), naive=True) != key  # the naive mode is measured apart
    asked = []
    monkeypatch.setattr(reference_times, "measure", lambda todo, *a, **k: asked.extend(p.task_id for p in todo) or {})
    res = reference_times.resolve(LimitPolicy(), ["Python/3"], {"Python/3": changed}, _NoSandboxMeasurer())
    assert asked == ["Python/3"]
    assert res.cpu == {"Python/3": limits.CEILING}  # nothing usable measured: the ceiling, never a guess


# ------------------------------------------------------------------ the gate
def _run_dir(path, time_limits, timeouts=0):
    """Five problems, three of six samples passed each; ``timeouts`` of the failed ones timed out."""
    records = [{"task_id": f"Python/{i}", "sample_index": s, "language": "python", "source_language": None,
                "status": "passed" if s < 3 else "timeout" if i * 3 + s - 3 < timeouts else "failed",
                "passed": s < 3} for i in range(5) for s in range(6)]
    path.mkdir()
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    meta = {"dataset_variant": "errata-v1", **({"time_limits": time_limits} if time_limits else {})}
    (path / "summary.json").write_text(json.dumps(summarize(records, (1,), meta)))
    return load_run(path)


def _record(policy, limit=2.0):
    return {"policy": policy.describe(), "limits_cpu_s": {f"Python/{i}": limit for i in range(5)}}


def test_gate_refuses_runs_with_different_policies(tmp_path):
    """Refused where a limit could have made the difference: the run with the smaller limits had timeouts."""
    ref = _record(LimitPolicy())
    base = _run_dir(tmp_path / "a", ref, timeouts=1)
    assert gate(base, _run_dir(tmp_path / "b", ref))["verdict"] == "pass"
    with pytest.raises(GateInputError, match="different time-limit policies"):
        gate(base, _run_dir(tmp_path / "c", _record(LimitPolicy(kind="flat", flat=5), 5.0)))
    with pytest.raises(GateInputError, match="different time-limit policies"):
        gate(base, _run_dir(tmp_path / "d", _record(LimitPolicy(factor=3)), timeouts=2))
    mixed = {"policy": LimitPolicy(floor=2.0).describe(), "limits_cpu_s": {f"Python/{i}": 2.0 + 2 * (i % 2)
                                                                          for i in range(5)}}
    with pytest.raises(GateInputError, match="different time-limit policies"):  # neither run's limits all smaller
        gate(_run_dir(tmp_path / "e", _record(LimitPolicy(), 3.0)), _run_dir(tmp_path / "f", mixed))


def test_gate_bridges_policies_that_cannot_have_changed_a_verdict(tmp_path, capsys):
    """The stored baseline's case: a 2 s floor, no timeout; a candidate under today's 3 s floor, timeouts or not.
    Every baseline program ended within its limits, so the larger limits give it the same verdicts."""
    old = _run_dir(tmp_path / "a", _record(LimitPolicy(floor=2.0), 2.0))
    today = _run_dir(tmp_path / "b", _record(LimitPolicy(), 3.0), timeouts=2)
    for base, cand in ((old, today), (today, old)):  # either side may be the one with smaller limits
        assert gate(base, cand)["verdict"] in ("pass", "regression")
        err = capsys.readouterr().err
        assert "every limit of the " + ("baseline" if base is old else "candidate") in err and "no timeout" in err
    with pytest.raises(GateInputError, match="different time-limit policies"):  # the smaller side timed out
        gate(_run_dir(tmp_path / "c", _record(LimitPolicy(floor=2.0), 2.0), timeouts=1), today)
    flat = _run_dir(tmp_path / "d", {"policy": LimitPolicy(kind="flat", flat=2, run_timeout=30).describe(),
                                     "limits_cpu_s": {f"Python/{i}": 2.0 for i in range(5)}})
    with pytest.raises(GateInputError, match="different time-limit policies"):  # its wall limit is larger (30 s)
        gate(flat, today)


def test_gate_flags_unrecorded_policy_and_different_limits(tmp_path, capsys):
    ref = _record(LimitPolicy())
    base = _run_dir(tmp_path / "a", ref)
    gate(base, _run_dir(tmp_path / "b", None))
    assert "records no time-limit policy" in capsys.readouterr().err
    gate(base, _run_dir(tmp_path / "c", _record(LimitPolicy(), 3.0)))
    assert "5 problem(s) got different CPU limits" in capsys.readouterr().err
    assert compare_time_limits(None, None) == (None, None)


# ------------------------------------------------------------------ real sandboxes
@pytest.mark.docker
def test_reference_times_measured_once_per_image_and_applied(problems, docker_client, cache_dir, tmp_path):
    """First use measures the canonical solutions (REPETITIONS runs each) into the image's file; the
    run then stops an endless loop at its problem's CPU limit, and summary.json records policy and limits."""
    from humaneval_x.evaluate import evaluate_samples
    from humaneval_x.sandbox.images import image_status

    ids = {l: s["id"] for l, s in image_status(docker_client).items()}
    samples = tmp_path / "s.jsonl"
    endless = {"Python/2": "    while True:\n        pass\n", "JavaScript/2": "  while (true) {}\n}\n"}
    recs = [{"task_id": t, "generation": problems[t].canonical_solution} for t in endless]
    recs += [{"task_id": t, "generation": g} for t, g in endless.items()]
    samples.write_text("".join(json.dumps(r) + "\n" for r in recs))
    summary = evaluate_samples(samples, tmp_path / "out", clean=False, workers=2, cache=False, log=lambda *a: None)
    tl = summary["time_limits"]
    assert tl["policy"] == LimitPolicy().describe()
    for lang, tid in (("python", "Python/2"), ("js", "JavaScript/2")):
        stored = json.loads(reference_times.reference_path(ids[lang]).read_text())
        entry = stored["entries"][reference_times.entry_key(reference_times.canonical_job(problems[tid]), naive=False)]
        assert stored["image_id"] == ids[lang] and entry["status"] == ["passed"] * limits.REPETITIONS
        assert tl["reference_cpu_s"][tid] == pytest.approx(max(entry["cpu_s"]), abs=1e-3)
        assert tl["limits_cpu_s"][tid] == LimitPolicy().cpu_limit(max(entry["cpu_s"]))
        assert tl["reference_sources"][lang]["measured_now"] == 1
    results = [json.loads(l) for l in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    for r in results:
        limit = tl["limits_cpu_s"][r["task_id"]]
        if r["generation"] == problems[r["task_id"]].canonical_solution:
            assert r["status"] == "passed"
        else:  # stopped by its own limit (below the ceiling), not by the old 10 s
            assert r["status"] == "timeout"
            assert limit < limits.CEILING
            assert limit - 1.0 <= r["run"]["cpu_s"] < limit + 1.5  # CPU accounting is tick-grained
    # a second run of another folder measures nothing: the image's file has it
    again = evaluate_samples(samples, tmp_path / "out2", clean=False, workers=2, cache=False, log=lambda *a: None)
    assert all(s["measured_now"] == 0 for s in again["time_limits"]["reference_sources"].values())
    assert again["time_limits"]["limits_cpu_s"] == tl["limits_cpu_s"]


@pytest.mark.docker
def test_cli_time_limit_sets_a_flat_limit(problems, docker_client, cache_dir, tmp_path):
    from humaneval_x.cli import main
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "Python/2", "generation": "    while True:\n        pass\n"}) + "\n")
    main(["evaluate-samples", str(samples), "--output-dir", str(tmp_path / "o"), "--time-limit", "3",
          "--clean=False", "--nocache"])
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["time_limits"]["policy"]["kind"] == "flat" and summary["time_limits"]["policy"]["cpu_s"] == 3
    assert summary["time_limits"]["limits_cpu_s"] == {"Python/2": 3.0}
    rec = json.loads((tmp_path / "o" / "results.jsonl").read_text().splitlines()[0])
    assert rec["status"] == "timeout" and 2.0 <= rec["run"]["cpu_s"] < 4.5
    assert not reference_times.reference_dir().exists()  # a flat limit measures nothing
    with pytest.raises(SystemExit) as exc:
        main(["evaluate-samples", str(samples), "--output-dir", str(tmp_path / "p"), "--time-limit", "3",
              "--run-cpu", "4"])
    assert exc.value.code == 2
