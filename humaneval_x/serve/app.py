"""The judge service's HTTP face: Starlette routes over ``engine.Engine``, served by uvicorn.

Routes (JSON unless said; every route but /health needs ``Authorization: Bearer TOKEN`` when a token is set):

- ``POST /v1/judge``      ``{"samples": [...], "settings": {...}, "request_id"?, "deadline_s"?, "compact"?}``
                          -> ``{"request_id", "job_id", "results": [record, ...], "counts", "elapsed_s"}``
- ``POST /v1/jobs``       the same body -> 202 ``{"job_id", "state", "total", ...}``
- ``GET  /v1/jobs/{id}``  state and counts; ``/v1/jobs/{id}/results`` every result (202 while running with
                          ``?partial=true``, else waits up to ``?wait=S`` seconds); ``/v1/jobs/{id}/stream``
                          NDJSON, one ``{"index", "result"}`` line per result as it finishes, then ``{"end": ...}``
- ``DELETE /v1/jobs/{id}`` cancel (what is not started is dropped; the results so far stay)
- ``POST /v1/run``, ``POST /run_code`` (SandboxFusion), ``POST /api/v2/execute`` (Piston), ``GET /api/v2/runtimes``
- ``GET /health``, ``GET /v1/metrics`` (JSON), ``GET /metrics`` (Prometheus text)

Errors: 400 a wrong request, 401 no or wrong token, 404 unknown job, 409 a request id reused for another
body, 413 a batch larger than the queue, 429 queue full (``Retry-After``), 501 a language whose sandbox image
is not built on this machine (Rust's is opt-in), 503 starting or draining (``Retry-After``), 504 the deadline
passed (the body holds what finished; retry with the same request id).
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from typing import Optional

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import HarnessError
from . import runcode
from .engine import Conflict, Engine, NotBuilt, QueueFull, RequestError, Submission, Unavailable, fingerprint

MAX_SYNC_SAMPLES = 512
MAX_BODY = 64 << 20


def _error(status: int, message: str, retry_after: Optional[float] = None, **extra) -> JSONResponse:
    headers = {"Retry-After": str(int(max(1, round(retry_after))))} if retry_after is not None else None
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


async def _wait(sub: Submission, predicate, timeout: Optional[float] = None) -> bool:
    """Until ``predicate()`` holds (True) or ``timeout`` seconds pass (False); woken by the engine's threads."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    sub.add_waiter(loop, event)
    end = None if timeout is None else loop.time() + timeout
    try:
        while not predicate():
            left = None if end is None else end - loop.time()
            if left is not None and left <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), timeout=left if left is not None else 30.0)
            except asyncio.TimeoutError:
                pass
            event.clear()
        return True
    finally:
        sub.remove_waiter(loop, event)


def create_app(engine: Engine, token: Optional[str] = None, start_engine: bool = True,
               drain_timeout: float = 60.0) -> Starlette:
    expected = f"Bearer {token}".encode() if token else None

    def authorized(request: Request) -> bool:
        if expected is None:
            return True
        got = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(got, expected)

    async def body_of(request: Request) -> dict:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise RequestError(f"the body has {len(raw):,} bytes; at most {MAX_BODY:,}")
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise RequestError(f"the body is not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise RequestError("the body must be a JSON object")
        return body

    def request_id_of(request: Request, body: dict) -> Optional[str]:
        rid = body.get("request_id") or request.headers.get("idempotency-key") or request.headers.get("x-request-id")
        if rid is not None and (not isinstance(rid, str) or not 0 < len(rid) <= 200):
            raise RequestError("request_id must be a string of 1 to 200 characters")
        return rid

    def guarded(handler):
        async def route(request: Request):
            if not authorized(request):
                engine.rejected["unauthorized"] += 1
                return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            try:
                return await handler(request)
            except RequestError as exc:
                engine.rejected["bad_request"] += 1
                return _error(400, str(exc))
            except QueueFull as exc:
                if exc.retry_after is None:
                    return _error(413, str(exc))
                return _error(429, str(exc), exc.retry_after, queue_depth=engine.queue_depth)
            except Conflict as exc:
                return _error(409, str(exc))
            except Unavailable as exc:
                return _error(503, str(exc), 5)
            except NotBuilt as exc:
                return _error(501, str(exc))
            except HarnessError as exc:  # the data or engine failed: never the sample's fault
                return _error(500, f"harness: {exc}")
        route.__name__ = handler.__name__
        return route

    async def submit_judge(request: Request, body: dict) -> Submission:
        unknown = sorted(set(body) - {"samples", "settings", "request_id", "deadline_s", "compact"})
        if unknown:
            raise RequestError(f"unknown field(s) {', '.join(unknown)}")
        rid = request_id_of(request, body)
        fp = fingerprint({k: body.get(k) for k in ("samples", "settings", "compact")})
        from starlette.concurrency import run_in_threadpool
        return await run_in_threadpool(engine.submit_judge, body.get("samples"), body.get("settings"), rid,
                                       body.get("deadline_s"), fp, bool(body.get("compact")))

    def judge_answer(sub: Submission, t0: float) -> dict:
        return {"request_id": sub.request_id, "job_id": sub.id, "state": sub.state, "results": sub.results,
                "counts": sub.counts(), "harness_errors": sub.counts().get("harness_error", 0),
                "settings": sub.meta.get("settings"), "elapsed_s": round(time.monotonic() - t0, 3)}

    async def finished(sub: Submission, t0: float, answer) -> Response:
        await _wait(sub, lambda: sub.terminal)
        if sub.state == "done":
            return JSONResponse(answer(sub, t0))
        status = 504 if sub.state == "expired" else 503
        return JSONResponse({"error": sub.reason, "state": sub.state, "done": sub.done, "total": sub.total,
                             "partial": answer(sub, t0)}, status_code=status,
                            headers={"Retry-After": "1"})

    @guarded
    async def judge(request: Request):
        t0 = time.monotonic()
        body = await body_of(request)
        samples = body.get("samples")
        if isinstance(samples, list) and len(samples) > MAX_SYNC_SAMPLES:
            raise RequestError(f"{len(samples)} samples: at most {MAX_SYNC_SAMPLES} in one synchronous request; "
                               "submit a job (POST /v1/jobs) or send smaller batches")
        sub = await submit_judge(request, body)
        return await finished(sub, t0, judge_answer)

    @guarded
    async def submit_job(request: Request):
        body = await body_of(request)
        if "deadline_s" not in body:
            body["deadline_s"] = engine.max_deadline_s
        sub = await submit_judge(request, body)
        return JSONResponse(sub.status(), status_code=202)

    def job_of(request: Request) -> Submission:
        sub = engine.get(request.path_params["job_id"])
        if sub is None:
            raise KeyError(request.path_params["job_id"])
        return sub

    def with_job(handler):
        async def route(request: Request):
            try:
                sub = job_of(request)
            except KeyError as exc:
                return _error(404, f"no job {exc.args[0]!r} (unknown, or finished long ago and forgotten)")
            return await handler(request, sub)
        route.__name__ = handler.__name__
        return guarded(route)

    @with_job
    async def job_status(request: Request, sub: Submission):
        return JSONResponse(sub.status())

    @with_job
    async def job_results(request: Request, sub: Submission):
        try:
            wait = float(request.query_params.get("wait", "0"))
        except ValueError:
            raise RequestError("wait must be a number of seconds") from None
        if wait > 0:
            await _wait(sub, lambda: sub.terminal, min(wait, 600.0))
        partial = request.query_params.get("partial", "false").lower() in ("1", "true", "yes")
        if not sub.terminal and not partial:
            return JSONResponse({**sub.status(), "results": None}, status_code=202, headers={"Retry-After": "1"})
        return JSONResponse({**sub.status(), "results": sub.results})

    @with_job
    async def job_stream(request: Request, sub: Submission):
        async def lines():
            sent = 0
            while True:
                await _wait(sub, lambda: sub.done > sent or sub.terminal, 15.0)
                order = sub.order[sent:]
                for i in order:
                    yield json.dumps({"index": i, "result": sub.results[i]}) + "\n"
                sent += len(order)
                if sub.terminal and sent >= sub.done:
                    yield json.dumps({"end": sub.state, "reason": sub.reason or None, "done": sub.done,
                                      "total": sub.total, "counts": sub.counts()}) + "\n"
                    return
                if not order:
                    yield "\n"  # keep-alive while a long program runs (a blank line: skip it)
        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @with_job
    async def job_cancel(request: Request, sub: Submission):
        engine.cancel(sub, "cancelled by the client")
        return JSONResponse(sub.status())

    # ---------------------------------------------------------------- arbitrary programs
    def run_route(parse, shape):
        @guarded
        async def route(request: Request):
            t0 = time.monotonic()
            body = await body_of(request)
            language, req = parse(body)
            rid = request_id_of(request, body)
            sub = engine.submit_run(language, req, lambda outcome: shape(outcome, language), rid,
                                    body.get("deadline_s"), fingerprint(body))
            ok = await _wait(sub, lambda: sub.terminal)
            if ok and sub.state == "done":
                result = sub.results[0]
                if isinstance(result, dict) and result.get("harness_error"):
                    return JSONResponse(result, status_code=500)
                return JSONResponse(result)
            return _error(504 if sub.state == "expired" else 503, sub.reason, 1, elapsed_s=time.monotonic() - t0)
        return route

    run_native = run_route(runcode.native_request, lambda o, lang: {**runcode.native_result(o), "language": lang})
    run_fusion = run_route(runcode.fusion_request, lambda o, lang: runcode.fusion_result(o))
    run_piston = run_route(runcode.piston_request, lambda o, lang: runcode.piston_result(o, lang))

    @guarded
    async def piston_runtimes(request: Request):
        return JSONResponse(runcode.runtimes())

    # ---------------------------------------------------------------- health and metrics
    async def health(request: Request):
        h = engine.health()
        return JSONResponse(h, status_code=200 if h["status"] == "ok" else 503)

    @guarded
    async def metrics_json(request: Request):
        return JSONResponse(engine.metrics())

    @guarded
    async def metrics_text(request: Request):
        return PlainTextResponse(prometheus(engine.metrics()))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if start_engine:
            from starlette.concurrency import run_in_threadpool
            await run_in_threadpool(engine.start)
        yield
        from starlette.concurrency import run_in_threadpool
        report = await run_in_threadpool(engine.drain, drain_timeout)
        engine.log(f"serve: stopped ({report['left_unfinished']} program(s) left unfinished, "
                   f"drained in {report['drained_in_s']} s)")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/metrics", metrics_json, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/v1/judge", judge, methods=["POST"]),
        Route("/v1/jobs", submit_job, methods=["POST"]),
        Route("/v1/jobs/{job_id}", job_status, methods=["GET"]),
        Route("/v1/jobs/{job_id}", job_cancel, methods=["DELETE"]),
        Route("/v1/jobs/{job_id}/results", job_results, methods=["GET"]),
        Route("/v1/jobs/{job_id}/stream", job_stream, methods=["GET"]),
        Route("/v1/run", run_native, methods=["POST"]),
        Route("/run_code", run_fusion, methods=["POST"]),
        Route("/api/v2/execute", run_piston, methods=["POST"]),
        Route("/api/v2/runtimes", piston_runtimes, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def prometheus(m: dict) -> str:
    lines = []

    def gauge(name, value, help_text, labels=""):
        lines.append(f"# HELP humaneval_x_{name} {help_text}")
        lines.append(f"humaneval_x_{name}{labels} {value if value is not None else 'NaN'}")
    gauge("queue_depth", m["queue_depth"], "programs waiting for a sandbox")
    gauge("in_flight", m["in_flight"], "programs in sandboxes now")
    gauge("programs_done_total", m["programs_done"], "programs answered")
    gauge("programs_per_second", m["programs_per_second_1m"], "programs answered per second over the last minute")
    gauge("harness_errors_total", m["harness_errors"], "programs answered harness_error (never a verdict)")
    gauge("worker_replacements_total", m["worker_replacements"], "sandboxes that died or were condemned and replaced")
    lines.append("# HELP humaneval_x_status_total programs answered, by status")
    for status, n in m["statuses"].items():
        lines.append(f'humaneval_x_status_total{{status="{status}"}} {n}')
    lines.append("# HELP humaneval_x_rejected_total requests refused, by reason")
    for reason, n in m["rejected"].items():
        lines.append(f'humaneval_x_rejected_total{{reason="{reason}"}} {n}')
    return "\n".join(lines) + "\n"


def serve(host: str = "127.0.0.1", port: int = 8000, token: Optional[str] = None, engine: Engine = None,
          drain_timeout: float = 60.0, log_level: str = "info") -> None:
    """Run the service until SIGTERM/SIGINT; then new requests get 503, what is queued and in flight is
    finished (up to ``drain_timeout`` seconds), and every worker container is removed."""
    import uvicorn

    app = create_app(engine, token, drain_timeout=drain_timeout)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # at the first signal: refuse new work at once (503), drain follows
            engine.accepting = False
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on",
                            timeout_graceful_shutdown=drain_timeout, access_log=False)
    Server(config).run()
