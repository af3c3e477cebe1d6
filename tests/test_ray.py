"""The Ray path on a real two-node Ray cluster (started here, loopback only) and real Docker.

- execution: verdicts identical to the single-machine Executor on a few hundred programs; an
  executor killed mid-run and the results still complete, each program recorded once; resume
  through evaluate_samples; the image archive a node loads is the driver's image, byte for byte;
- generation: two CPU replicas of a tiny random model produce the samples one backend does;
- the command line: a bad --ray address is one line and exit status 2.
"""
import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

# A cluster bound to 127.0.0.1 only: Ray would otherwise turn 127.0.0.1 into this machine's network
# address (read when ray is imported, so set first).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

from humaneval_x.execute import Executor, make_job  # noqa: E402
from humaneval_x.samples import Sample  # noqa: E402

pytestmark = pytest.mark.docker

NODE = dict(num_cpus=1, node_ip_address="127.0.0.1", include_dashboard=False, object_store_memory=150 * 2 ** 20)


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args=dict(NODE))
    c.add_node(**NODE)
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    yield c
    ray.shutdown()
    c.shutdown()


WRONG = {"python": "    return None\n", "js": "  return -1\n}\n"}


@pytest.fixture(scope="module")
def jobs(problems):
    """~210 programs: Python and JavaScript canonical + wrong variants, a few of the other languages."""
    out = []
    for tid, p in problems.items():
        take = {"python": 72, "js": 48, "cpp": 6, "go": 16, "java": 6}[p.language]
        if p.number >= take:
            continue
        out.append(make_job(Sample(tid, 0, p.canonical_solution), p, clean=False))
        if p.language in WRONG and p.number < take // 2:
            out.append(make_job(Sample(tid, 1, WRONG[p.language]), p, clean=False))
    out.append(make_job(Sample("Python/0", 2, out[0].sample.generation), problems["Python/0"], clean=False))  # a duplicate
    return out


@pytest.fixture(scope="module")
def local_results(jobs, docker_client):
    got = {}
    t0 = time.monotonic()
    Executor(workers=2).run(jobs, lambda r: got.__setitem__((r["task_id"], r["sample_index"]), r))
    local_results.seconds = time.monotonic() - t0
    return got


def verdicts(results):
    return {k: (r["status"], r["passed"], r["stage"]) for k, r in results.items()}


def test_verdicts_identical_to_a_single_machine_run(cluster, jobs, local_results):
    from humaneval_x.distributed.ray_executor import RayExecutor
    calls = Counter()
    got = {}

    def store(r):
        calls[(r["task_id"], r["sample_index"])] += 1
        got[(r["task_id"], r["sample_index"])] = r

    ex = RayExecutor(cluster.address)
    seconds = ex.run(jobs, store)
    assert len(got) == len(jobs) and set(calls.values()) == {1}
    assert verdicts(got) == verdicts(local_results)
    statuses = Counter(r["status"] for r in got.values())
    assert statuses["passed"] > 100 and statuses["failed"] > 40  # a real mix, not one answer for all
    assert ex.stats["nodes"] == 2 and ex.stats["slots"] == 2
    assert ex.executed == len(jobs) - 1 and got[("Python/0", 2)]["reused_result"]  # deduped across the run
    assert set(seconds) == {"python", "cpp", "java", "js", "go"}
    assert all(n.chunks_done > 0 for n in ex.nodes)  # both nodes ran work


def test_an_executor_killed_mid_run_loses_and_doubles_nothing(cluster, jobs, local_results):
    from humaneval_x.distributed.ray_executor import RayExecutor
    calls = Counter()
    got = {}
    ex = RayExecutor(cluster.address)
    killed = []

    def store(r):
        key = (r["task_id"], r["sample_index"])
        calls[key] += 1
        got[key] = r
        if len(got) == 20 and not killed:  # mid-run: kill the executor of the second node
            victim = next(n for n in ex.nodes if n.alive and n.node_id != ray.get_runtime_context().get_node_id())
            killed.append(victim.node_id)
            ray.kill(victim.handle)

    part = [j for j in jobs if j.language in ("python", "js")][::2]  # ~60 programs: the kill is what counts
    ex.run(part, store)
    assert killed
    assert len(got) == len(part) and set(calls.values()) == {1}
    assert verdicts(got) == {k: v for k, v in verdicts(local_results).items() if k in got}
    assert ex.stats["executors_lost"] == 1 and ex.stats["chunks_rerun"] >= 1
    assert ex.stats["executors_restarted"] == 1  # the node lives: a new executor took its place


def test_evaluate_samples_on_ray_resumes(cluster, problems, data_dir, tmp_path):
    from humaneval_x.evaluate import evaluate_samples
    samples = tmp_path / "s.jsonl"
    recs = [{"task_id": f"Python/{i}", "sample_index": j, "generation": problems[f"Python/{i}"].canonical_solution
             if j == 0 else WRONG["python"]} for i in range(12) for j in range(2)]
    samples.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = tmp_path / "out"
    first = evaluate_samples(samples, out, data_dir, workers=1, ray=cluster.address, cache=False, log=lambda *a: None)
    results = out / "results.jsonl"
    lines = results.read_text().splitlines()
    assert len(lines) == 24 and first["ray"]["nodes"] == 2
    results.write_text("\n".join(lines[:15]) + "\n")  # as if interrupted after 15 verdicts
    again = evaluate_samples(samples, out, data_dir, workers=1, ray=cluster.address, cache=False, log=lambda *a: None)
    assert again["executed_now"] == 9
    final = [json.loads(x) for x in results.read_text().splitlines()]
    assert sorted((r["task_id"], r["sample_index"]) for r in final) == sorted((r["task_id"], r["sample_index"])
                                                                               for r in recs)
    assert {(r["task_id"], r["sample_index"]) for r in final if r["passed"]} == {(r["task_id"], 0) for r in recs}


def test_the_default_policy_gives_the_same_limits_and_verdicts_on_ray_as_here(cluster, problems, data_dir, tmp_path):
    """Reference times are resolved before the executor is built, on the driver's images (the nodes run those):
    per-problem limits in summary.json and verdicts identical to a local run's."""
    from humaneval_x.evaluate import evaluate_samples
    from humaneval_x.limits import LimitPolicy
    samples = tmp_path / "s.jsonl"
    recs = [{"task_id": f"Python/{i}", "sample_index": j, "generation": problems[f"Python/{i}"].canonical_solution
             if j == 0 else WRONG["python"]} for i in range(6) for j in range(2)]
    samples.write_text("".join(json.dumps(r) + "\n" for r in recs))
    runs = {where: evaluate_samples(samples, tmp_path / where, data_dir, workers=1, policy=LimitPolicy(), cache=False,
                                    ray=cluster.address if where == "ray" else None, log=lambda *a: None)
            for where in ("local", "ray")}
    limits = {where: s["time_limits"] for where, s in runs.items()}
    assert limits["ray"]["policy"] == limits["local"]["policy"] == LimitPolicy().describe()
    assert limits["ray"]["limits_cpu_s"] == limits["local"]["limits_cpu_s"] and len(limits["ray"]["limits_cpu_s"]) == 6
    assert limits["ray"]["reference_sources"]["python"]["image_id"] == runs["local"]["sandbox_images"]["python"]
    results = {where: {(r["task_id"], r["sample_index"]): (r["status"], r["digest"]) for r in
                       map(json.loads, (tmp_path / where / "results.jsonl").read_text().splitlines())}
               for where in runs}
    assert results["ray"] == results["local"] and runs["ray"]["ray"]["nodes"] == 2


def test_a_node_loads_the_drivers_image_archive(cluster, docker_client, tmp_path):
    """The shipping path for real: a (tiny) image saved on the driver, put into the object store in
    parts, removed, and loaded back by the executor on the other node: the same image id."""
    import io
    import tarfile
    import uuid

    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from humaneval_x.distributed import images
    from humaneval_x.distributed.ray_executor import NodeExecutor

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = os.urandom(3 * 2 ** 20)  # 3 MiB: several parts below
        info = tarfile.TarInfo("payload.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    tag = f"humaneval-x-raytest/tiny:{uuid.uuid4().hex[:12]}"
    docker_client.api.import_image_from_data(buf.getvalue(), repository=tag.split(":")[0], tag=tag.split(":")[1])
    image_id = docker_client.images.get(tag).id
    try:
        parts = [ray.put(p) for p in images.archive_parts(docker_client, tag, part_bytes=2 ** 20)]
        assert len(parts) >= 3
        docker_client.images.remove(tag, force=True)
        other = next(n["NodeID"] for n in ray.nodes() if n["NodeID"] != ray.get_runtime_context().get_node_id())
        actor = ray.remote(NodeExecutor).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(other, soft=False)).remote(1)
        assert ray.get(actor.images.remote({"tiny": {"tag": tag}})) == {"tiny": None}
        assert ray.get(actor.load.remote("tiny", parts)) == image_id
        assert images.held(docker_client, tag, image_id)
        ray.kill(actor)
    finally:
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------- generation
@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from humaneval_x.generation.loading import default_model_path, split_model_path
    directory, gguf = split_model_path(default_model_path())
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    out = tmp_path_factory.mktemp("tiny-model")
    LlamaForCausalLM(cfg).eval().save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


def _lines(path):
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    keys = [(r["task_id"], r["sample_index"]) for r in recs]
    assert len(keys) == len(set(keys)), "a sample written twice"
    return {k: r for k, r in zip(keys, recs)}


def test_two_cpu_replicas_generate_the_samples_one_backend_does(cluster, problems, tiny_model_dir, tmp_path):
    from humaneval_x.distributed.generation import RayGenerationBackend
    from humaneval_x.generate import run_generation
    from humaneval_x.generation.backend import SamplingParams
    from humaneval_x.generation.factory import get_backend
    from humaneval_x.prompts import generation_items

    n = 3
    items = generation_items(problems, ["python", "js"], limit=4)
    params = SamplingParams(n=n, temperature=0.8, top_p=0.95, max_new_tokens=16, seed=3)  # sampled, seeded
    # batch_size == n: each batch is one prompt's n samples, in one replica as in one backend, so the
    # batch composition is identical and the text must be too (same seeds, same shapes)
    opts = dict(model=tiny_model_dir, device="cpu", batch_size=n)
    one = tmp_path / "one.jsonl"
    # and the same number of threads: a CPU replica (num_cpus=1) computes with one (Ray sets
    # OMP_NUM_THREADS=1), and another thread count sums in another order; with the random weights'
    # nearly flat distributions that alone can flip a sampled token (seen on an AMD EPYC machine)
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_generation(items, get_backend("transformers", **opts), params, one, log=lambda *a: None)
    finally:
        torch.set_num_threads(threads)
    two = tmp_path / "two.jsonl"
    backend = RayGenerationBackend(cluster.address, "transformers", replicas=2, options=opts, log=lambda *a: None)
    try:
        run_generation(items, backend, params, two, log=lambda *a: None)
        assert len({i["node_id"] for i in backend._infos}) == 2  # one replica per node
        a, b = _lines(one), _lines(two)
        assert set(a) == set(b) and len(a) == len(items) * n
        assert {k: r["raw_generation"] for k, r in a.items()} == {k: r["raw_generation"] for k, r in b.items()}
        assert len({r["raw_generation"] for r in b.values()}) > len(items)  # really sampled, not one text per prompt
        # resumable: drop some samples, rerun on the replicas: exactly those come back, the same
        kept = two.read_text().splitlines()[:-7]
        two.write_text("\n".join(kept) + "\n")
        assert run_generation(items, backend, params, two, log=lambda *a: None) == 7
        assert {k: r["raw_generation"] for k, r in _lines(two).items()} == \
               {k: r["raw_generation"] for k, r in a.items()}
    finally:
        backend.release_replicas()


# ---------------------------------------------------------------------------------------------- command line
@pytest.mark.parametrize("address,says", [("127.0.0.1:1", "no Ray cluster answers"),
                                          ("not-an-address", "expected auto, HOST:PORT")])
def test_a_bad_ray_address_is_one_line_and_exit_2(tmp_path, address, says):
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "Python/0", "generation": "    return True\n"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(samples),
                           "--output-dir", str(tmp_path / "out"), "--ray", address],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and says in proc.stderr
    assert not (tmp_path / "out").exists()  # checked before any work
