"""Arbitrary programs under the per-program boundary of every HumanEval-X sample, and the request and
response shapes of the code-execution services RL trainers already call.

A program is one runner request (runners/runner.py) in a worker of its language's sandbox image, with the
same compile command (as the build uid), the same per-program namespaces, uid, seccomp filter, CPU and
wall limits and output caps as a sample's program; only the judging differs: the answer is the program's
exit status and output, not a verdict. Standard input is a file beside the program (``stdin.txt``),
redirected by ``/bin/sh`` inside the boundary (the runner's own stdin pipe stays its protocol's).

Shapes offered:
- native ``POST /v1/run``: ``{"language", "code", "stdin", "cpu_limit", "run_timeout", "compile_timeout",
  "output_cap"}`` -> ``{"status", "exit_code", "signal", "stdout", "stderr", "cpu_s", "user_s", "wall_s",
  "compile"}`` (``user_s``: the user CPU seconds the CPU limit counts; ``cpu_s``: user + system);
- SandboxFusion's ``POST /run_code``: ``{"code", "language", "compile_timeout", "run_timeout", "stdin"}`` ->
  ``{"status": "Success"|"Failed"|"SandboxError", "message", "compile_result", "run_result": {"status":
  "Finished"|"TimeLimitExceeded"|"Error", "execution_time", "return_code", "stdout", "stderr"}, "files": {}}``;
- Piston's ``POST /api/v2/execute``: ``{"language", "version", "files": [{"name", "content"}], "stdin",
  "compile_timeout", "run_timeout"}`` (milliseconds) -> ``{"language", "version", "run": {"stdout",
  "stderr", "output", "code", "signal"}, "compile": {...}}``.
"""
from __future__ import annotations

import signal as _signal
from typing import Optional, Tuple

from ..languages import LANGUAGES, get_language
from ..limits import wall_for
from ..protocol import Request
from .engine import RequestError

MAX_CODE = 1 << 20
MAX_STDIN = 1 << 20
DEFAULT_CPU = 10.0
MAX_CPU = 60.0
MAX_WALL = 180.0
MAX_COMPILE = 120.0
DEFAULT_CAP = 64 * 1024
MAX_CAP = 1 << 20
STDIN_FILE = "stdin.txt"

# language -> (source file, compile argv or None, run argv): a plain program of the language, built with
# its compiler as the harness builds samples (no test harness, no PCH of the harness's includes): each
# language's own (``Language.plain_program``)
PROGRAMS = {name: lang.plain_program for name, lang in LANGUAGES.items() if lang.plain_program}
_OFFERED = ", ".join(PROGRAMS)
# other services' names for the same languages
ALIASES = {"python3": "python", "py": "python", "c++": "cpp", "cxx": "cpp", "nodejs": "js", "node": "js",
           "javascript": "js", "golang": "go", "java": "java", "rs": "rust"}


def language_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RequestError(f"language must be a string: {_OFFERED}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    try:
        lang = get_language(key).name
    except ValueError:
        lang = None
    if lang not in PROGRAMS:
        raise RequestError(f"language {name!r} is not offered; choose {_OFFERED}")
    return lang


def _number(d: dict, key: str, default, hi: float, scale: float = 1.0) -> float:
    v = d.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise RequestError(f"{key} must be a number > 0 (got {v!r})")
    return min(float(v) * scale, hi)


def make_run_request(language: str, code: str, stdin: str = "", cpu: float = DEFAULT_CPU,
                     wall: Optional[float] = None, compile_timeout: float = 60.0, cap: int = DEFAULT_CAP) -> dict:
    """The runner request of one arbitrary program, in its wire form (its id is set when queued)."""
    if not isinstance(code, str):
        raise RequestError("code must be a string")
    if len(code) > MAX_CODE:
        raise RequestError(f"code has {len(code):,} characters; at most {MAX_CODE:,}")
    if not isinstance(stdin, str) or len(stdin) > MAX_STDIN:
        raise RequestError(f"stdin must be a string of at most {MAX_STDIN:,} characters")
    source, compile_argv, run_argv = PROGRAMS[language]
    wall = wall or min(MAX_WALL, wall_for(cpu))
    run = ["/bin/sh", "-c", f'exec "$@" < {STDIN_FILE}', "sh", *run_argv]
    return Request(None, {source: code, STDIN_FILE: stdin}, run, compile=compile_argv, compile_timeout=compile_timeout,
                   run_timeout=wall, run_cpu=max(1.0, float(int(cpu + 0.999))), output_cap=cap).to_wire()


def native_request(body: dict) -> Tuple[str, dict]:
    language = language_name(body.get("language"))
    cpu = _number(body, "cpu_limit", DEFAULT_CPU, MAX_CPU)
    wall = _number(body, "run_timeout", None, MAX_WALL)
    comp = _number(body, "compile_timeout", 60.0, MAX_COMPILE)
    cap = int(_number(body, "output_cap", DEFAULT_CAP, MAX_CAP))
    return language, make_run_request(language, body.get("code"), body.get("stdin") or "", cpu, wall, comp, cap)


def native_result(outcome: dict) -> dict:
    """The runner's outcome as the native answer. ``status``: finished (look at exit_code), compile_error,
    timeout, runtime_error (the boundary stopped it: output flood, a forbidden call), or harness_error
    (the harness failed: no statement about the program)."""
    status = outcome.get("status") or "harness_error"
    run = outcome.get("run") or {}
    comp = outcome.get("compile")
    rc = run.get("returncode")
    out = {"status": status, "detail": outcome.get("detail") or "", "exit_code": None, "signal": None,
           "timed_out": bool(run.get("timed_out")), "stdout": run.get("stdout") or "", "stderr": run.get("stderr") or "",
           "cpu_s": run.get("cpu_s"), "user_s": run.get("user_s"), "wall_s": run.get("wall_s"),
           "compile": None if not comp else {k: comp.get(k) for k in ("returncode", "timed_out", "wall_s", "stdout", "stderr")}}
    if status == "harness_error":
        return out
    if status == "compile_error":
        out["detail"] = out["detail"] or "compilation failed"
        return out
    if run.get("timed_out"):
        out["status"] = "timeout"
    elif status == "runtime_error" and rc is None:
        pass  # stopped by the boundary (detail says why)
    else:
        out["status"] = "finished"
        out["detail"] = ""
    if isinstance(rc, int):
        if rc < 0:
            out["signal"] = _signal.Signals(-rc).name if -rc in _signal.Signals._value2member_map_ else str(-rc)
            out["exit_code"] = 128 - rc
        else:
            out["exit_code"] = rc
    return out


# ---------------------------------------------------------------- SandboxFusion /run_code
def fusion_request(body: dict) -> Tuple[str, dict]:
    language = language_name(body.get("language"))
    wall = _number(body, "run_timeout", 10.0, MAX_WALL)
    comp = _number(body, "compile_timeout", 10.0, MAX_COMPILE)
    files = body.get("files") or {}
    if files:
        raise RequestError("files are not supported here; put the program in code")
    # SandboxFusion's run_timeout is a wall limit; the CPU limit is the same number (no program gets more CPU than wall)
    return language, make_run_request(language, body.get("code"), body.get("stdin") or "", wall, wall, comp)


def fusion_result(outcome: dict) -> dict:
    r = native_result(outcome)
    if r["status"] == "harness_error":
        return {"status": "SandboxError", "message": r["detail"], "compile_result": None, "run_result": None,
                "executor_pod_name": None, "files": {}}
    comp = r["compile"]
    compile_result = None if comp is None else {
        "status": "TimeLimitExceeded" if comp.get("timed_out") else "Finished",
        "execution_time": comp.get("wall_s"), "return_code": comp.get("returncode"),
        "stdout": comp.get("stdout") or "", "stderr": comp.get("stderr") or ""}
    if r["status"] == "compile_error":
        return {"status": "Failed", "message": r["detail"], "compile_result": compile_result, "run_result": None,
                "executor_pod_name": None, "files": {}}
    run_status = {"finished": "Finished", "timeout": "TimeLimitExceeded"}.get(r["status"], "Error")
    ok = r["status"] == "finished" and r["exit_code"] == 0
    return {"status": "Success" if ok else "Failed", "message": "" if ok else (r["detail"] or ""),
            "compile_result": compile_result,
            "run_result": {"status": run_status, "execution_time": r["wall_s"], "return_code": r["exit_code"],
                           "stdout": r["stdout"], "stderr": r["stderr"]},
            "executor_pod_name": None, "files": {}}


# ---------------------------------------------------------------- Piston /api/v2/execute
def piston_request(body: dict) -> Tuple[str, dict]:
    language = language_name(body.get("language"))
    files = body.get("files")
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        raise RequestError("files must be a list of {name, content} objects (the first is run)")
    if len(files) > 1:
        raise RequestError("one file per program here")
    wall = _number(body, "run_timeout", 3000.0 / 1000, MAX_WALL, scale=1 / 1000)
    comp = _number(body, "compile_timeout", 10000.0 / 1000, MAX_COMPILE, scale=1 / 1000)
    cpu = _number(body, "run_cpu_time", wall * 1000, MAX_CPU * 1000, scale=1 / 1000)
    if body.get("args"):
        raise RequestError("args are not supported here")
    return language, make_run_request(language, files[0].get("content"), body.get("stdin") or "", cpu, wall, comp)


def piston_result(outcome: dict, language: str, version: str = "*") -> dict:
    r = native_result(outcome)
    if r["status"] == "harness_error":
        return {"message": r["detail"] or "harness error", "harness_error": True}

    def stage(stdout, stderr, code, sig, status=None, message=None):
        return {"stdout": stdout, "stderr": stderr, "output": stdout + stderr, "code": code, "signal": sig,
                "message": message, "status": status}
    out = {"language": LANGUAGES[language].name, "version": version}
    comp = r["compile"]
    if comp is not None:
        out["compile"] = stage(comp.get("stdout") or "", comp.get("stderr") or "", comp.get("returncode"), None,
                               "TO" if comp.get("timed_out") else None)
    if r["status"] == "compile_error":
        return out
    status = {"timeout": "TO", "runtime_error": "RE"}.get(r["status"])
    code = r["exit_code"] if r["signal"] is None else None
    out["run"] = stage(r["stdout"], r["stderr"], code, f"SIG{r['signal']}".replace("SIGSIG", "SIG") if r["signal"] else None,
                       status, r["detail"] or None)
    out["run"]["cpu_time"] = None if r["cpu_s"] is None else round(r["cpu_s"] * 1000)
    out["run"]["wall_time"] = None if r["wall_s"] is None else round(r["wall_s"] * 1000)
    return out


def runtimes() -> list:
    return [{"language": name, "version": "*", "aliases": sorted(a for a, t in ALIASES.items() if t == name)}
            for name in PROGRAMS]
