from humaneval_x.result_cache import ResultCache, cache_key


def test_roundtrip_and_no_harness_errors(tmp_path):
    c = ResultCache(tmp_path / "r.sqlite")
    req = {"compile": None, "run": ["python3", "main.py"], "run_cpu": 10}
    k = cache_key("abc", "sha256:img", req)
    assert c.get(k) is None
    c.put(k, {"status": "passed", "detail": ""})
    assert c.get(k)["status"] == "passed" and c.hits == 1
    c.put(cache_key("def", "sha256:img", req), {"status": "harness_error"})
    assert c.get(cache_key("def", "sha256:img", req)) is None
    # another image, other limits or another mode: another key
    assert cache_key("abc", "sha256:other", req) != k
    assert cache_key("abc", "sha256:img", dict(req, run_cpu=5)) != k
    assert cache_key("abc", "sha256:img", dict(req, python=True)) != k
    c.close()
    assert ResultCache(tmp_path / "r.sqlite").get(k)["status"] == "passed"  # persists across runs
