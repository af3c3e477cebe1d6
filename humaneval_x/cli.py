"""The `humaneval-x` command line (python-fire).

    humaneval-x evaluate-samples SAMPLES.jsonl[.gz] [--output-dir DIR] [--data-dir DIR] ...
    humaneval-x self-check [--languages python,cpp]
    humaneval-x sandbox build|status|clean
    humaneval-x data download|verify
"""
from __future__ import annotations

import json
import sys
from typing import Optional

from .errors import HarnessError


def _ks(ks) -> tuple:
    if isinstance(ks, (int, float)):
        return (int(ks),)
    if isinstance(ks, str):
        return tuple(int(k) for k in ks.split(",") if k.strip())
    return tuple(int(k) for k in ks)


def _timeouts(run_cpu, run_timeout, compile_timeout):
    from .execute import Timeouts
    return Timeouts(compile_timeout=compile_timeout, run_cpu=run_cpu, run_timeout=run_timeout)


class Sandbox:
    """Build and inspect the per-language Docker sandbox images."""

    def build(self, languages: Optional[str] = None, force: bool = False):
        """Build the sandbox images (tags are content hashes: only changed recipes rebuild).

        Args:
            languages: comma-separated subset (default: all five).
            force: rebuild even when the image exists.
        """
        from .languages import parse_languages
        from .sandbox.images import build_image
        for lang in parse_languages(languages):
            print(f"{lang}: {build_image(lang, force=force)}")

    def status(self):
        """Which sandbox images are present."""
        from .sandbox.images import image_status
        st = image_status()
        for lang, s in st.items():
            print(f"{lang:<8}{s['tag']:<40}{'present ' + s['id'][:19] if s['present'] else 'MISSING'}")
        if not all(s["present"] for s in st.values()):
            sys.exit(1)

    def clean(self):
        """Remove worker containers left behind by an interrupted run."""
        from .sandbox.docker_sandbox import remove_stale_workers
        print(f"removed {remove_stale_workers()} container(s)")


class Data:
    """Download and verify the HumanEval-X files."""

    def download(self, target: Optional[str] = None):
        """Download the pinned upstream files into the user cache (or TARGET) and check their sha256."""
        from pathlib import Path
        from .dataset import download_dataset, resolve_data_dir
        if target:
            download_dataset(Path(target))
            print(target)
        else:
            print(resolve_data_dir())

    def verify(self, data_dir: Optional[str] = None):
        """Compare the data files against the pinned sha256 (ok / modified / missing)."""
        from .dataset import resolve_data_dir, verify_data_dir
        path = resolve_data_dir(data_dir, download=False)
        res = verify_data_dir(path)
        for lang, st in res.items():
            print(f"{lang:<8}{st}")
        if any(v != "ok" for v in res.values()):
            sys.exit(1)


class CLI:
    """HumanEval-X: execute code samples in Docker sandboxes and score them with unbiased pass@k."""

    def __init__(self):
        self.sandbox = Sandbox()
        self.data = Data()

    def evaluate_samples(self, samples: str, output_dir: Optional[str] = None, data_dir: Optional[str] = None,
                         dataset_variant: str = "errata-v1", clean: bool = True, workers: Optional[int] = None,
                         ks="1,10,100", run_cpu: Optional[float] = None, run_timeout: Optional[float] = None,
                         compile_timeout: Optional[float] = None, progress: bool = True):
        """Execute a samples file ({"task_id", "generation"} per line) and report pass@k.

        Writes OUTPUT_DIR/results.jsonl (one verdict per sample) and OUTPUT_DIR/summary.json.
        Rerunning with the same OUTPUT_DIR executes only what is missing.

        Args:
            samples: JSONL (or .jsonl.gz) in the CodeGeeX format; "completion" is accepted for "generation".
            output_dir: where results go (default: SAMPLES without extension + ".eval").
            data_dir: folder with humaneval_<lang>.jsonl.gz (default: $HUMANEVAL_X_DATA, else download).
            dataset_variant: errata-v1 (default: known-broken problems fixed) or original (upstream as shipped).
            clean: apply the language's clean-up (cut at the end of the function) before executing.
            workers: sandboxes per language (default: number of CPUs).
            ks: pass@k values (reported only where k <= samples per problem).
            run_cpu: CPU-second limit of a run (default: per language).
            run_timeout: wall-second limit of a run (default: per language).
            compile_timeout: wall-second limit of a compilation (default: per language).
            progress: show a progress bar.
        """
        from .evaluate import evaluate_samples
        summary = evaluate_samples(samples, output_dir, data_dir, dataset_variant, clean, workers, _ks(ks),
                                   _timeouts(run_cpu, run_timeout, compile_timeout), show_progress=progress)
        if summary["harness_errors"]:
            print(f"{summary['harness_errors']} sample(s) hit a harness error (not counted as failures); "
                  "rerun the same command to retry them.", file=sys.stderr)
            sys.exit(3)

    def self_check(self, languages: Optional[str] = None, data_dir: Optional[str] = None,
                   dataset_variant: str = "errata-v1", workers: Optional[int] = None, limit: Optional[int] = None,
                   json_out: Optional[str] = None, progress: bool = True):
        """Run every canonical solution (must pass) and wrong programs per language (must fail as expected).

        Exits non-zero unless all canonical solutions pass and every wrong program gets its expected status.

        Args:
            languages: comma-separated subset (default: all five).
            data_dir: folder with the data files (default: $HUMANEVAL_X_DATA, else download).
            dataset_variant: errata-v1 (default) or original (then JavaScript/112 and /155 fail, as upstream).
            workers: sandboxes per language (default: number of CPUs).
            limit: only problems 0..LIMIT-1 of each language.
            json_out: also write the report as JSON to this file.
            progress: show a progress bar.
        """
        from .selfcheck import format_report, run_self_check
        report = run_self_check(languages, data_dir, dataset_variant, workers, limit=limit, show_progress=progress)
        print(format_report(report))
        if json_out:
            with open(json_out, "w") as f:
                json.dump(report, f, indent=2)
        if not report["ok"]:
            sys.exit(1)


def main(argv=None):
    import fire
    try:
        fire.Fire(CLI(), command=argv, name="humaneval-x")
    except HarnessError as exc:
        print(f"humaneval-x: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("humaneval-x: interrupted; results written so far are kept, rerun to continue", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
