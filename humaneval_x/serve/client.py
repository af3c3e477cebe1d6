"""A small client of the judge service (standard library only: it installs with the harness alone).

    from humaneval_x.serve.client import JudgeClient
    client = JudgeClient("http://127.0.0.1:8000", token=os.environ.get("HX_TOKEN"))
    results = client.judge([{"task_id": "Python/0", "completion": "..."}])   # one record per sample, in order

``judge`` cuts the samples into batches (``batch_size``), sends ``concurrency`` of them at once, each with a
request id of its own that stays the same across its retries (the server answers a retried request from
the first attempt: nothing runs twice), and retries connection failures, 429, 502, 503 and 504 with
exponential backoff and jitter, honouring ``Retry-After``. A 504 (the request's deadline passed) is retried
with the same id, which runs only what the first attempt did not finish. Other errors raise ``JudgeError``.
"""
from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Optional

RETRY_STATUSES = (408, 425, 429, 502, 503, 504)


def numbered(samples: List[dict]) -> List[dict]:
    """Samples without a ``sample_index`` numbered per problem in list order, as a samples file is: cut into
    batches, they keep the indices (and so the results) the whole list has in evaluate-samples."""
    counters, out = {}, []
    for s in samples:
        key = (s.get("task_id"), s.get("source_language") or "")
        idx = s.get("sample_index")
        if idx is None:
            idx = counters.get(key, 0)
            s = {**s, "sample_index": idx}
        if isinstance(idx, int):
            counters[key] = max(counters.get(key, 0), idx + 1)
        out.append(s)
    return out


class JudgeError(Exception):
    def __init__(self, message: str, status: Optional[int] = None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


class JudgeClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8000", token: Optional[str] = None, timeout: float = 900.0,
                 max_retries: int = 8, backoff: float = 0.5, max_backoff: float = 30.0, batch_size: int = 64,
                 concurrency: int = 4):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.retries = 0  # retries made, over the client's life

    # ------------------------------------------------------------------ transport
    def _open(self, method: str, path: str, body=None, timeout: Optional[float] = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        return urllib.request.urlopen(req, timeout=timeout or self.timeout)

    def request(self, method: str, path: str, body=None, retry: bool = True, timeout: Optional[float] = None):
        """The decoded JSON answer; retries what may succeed later (see the module's docstring)."""
        attempt = 0
        while True:
            try:
                with self._open(method, path, body, timeout) as resp:
                    return json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                try:
                    answer = json.loads(raw)
                except ValueError:
                    answer = raw.decode("utf-8", "replace")
                if not retry or exc.code not in RETRY_STATUSES or attempt >= self.max_retries:
                    message = answer.get("error") if isinstance(answer, dict) else answer
                    raise JudgeError(f"{method} {path}: HTTP {exc.code}: {message}", exc.code, answer) from None
                wait = self._delay(attempt, exc.headers.get("Retry-After"))
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                if not retry or attempt >= self.max_retries:
                    raise JudgeError(f"{method} {path}: {exc}") from None
                wait = self._delay(attempt, None)
            attempt += 1
            self.retries += 1
            time.sleep(wait)

    def _delay(self, attempt: int, retry_after) -> float:
        from ..generation.openai_backend import _retry_after  # seconds or an HTTP date, as the openai backend reads it
        base = min(self.max_backoff, self.backoff * (2 ** attempt)) * (0.5 + random.random() / 2)
        asked = _retry_after(retry_after)
        return base if asked is None else max(base, min(asked, 300.0))

    # ------------------------------------------------------------------ judging
    def judge_batch(self, samples: List[dict], settings: Optional[dict] = None, request_id: Optional[str] = None,
                    deadline_s: Optional[float] = None, compact: bool = False) -> dict:
        """One POST /v1/judge (retried with the same request id); the whole answer."""
        body = {"samples": samples, "request_id": request_id or uuid.uuid4().hex, "compact": compact}
        if settings:
            body["settings"] = settings
        if deadline_s:
            body["deadline_s"] = deadline_s
        return self.request("POST", "/v1/judge", body)

    def judge(self, samples: List[dict], settings: Optional[dict] = None, compact: bool = False) -> List[dict]:
        """One result record per sample, in the samples' order (batches of ``batch_size``, ``concurrency`` at once)."""
        samples = numbered(samples)
        batches = [samples[i:i + self.batch_size] for i in range(0, len(samples), self.batch_size)]
        with ThreadPoolExecutor(max(1, min(self.concurrency, len(batches)))) as pool:
            answers = list(pool.map(lambda b: self.judge_batch(b, settings, compact=compact), batches))
        return [r for a in answers for r in a["results"]]

    # ------------------------------------------------------------------ jobs
    def submit_job(self, samples: List[dict], settings: Optional[dict] = None, request_id: Optional[str] = None,
                   compact: bool = False) -> dict:
        body = {"samples": samples, "request_id": request_id or uuid.uuid4().hex, "compact": compact}
        if settings:
            body["settings"] = settings
        return self.request("POST", "/v1/jobs", body)

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/v1/jobs/{job_id}")

    def job_results(self, job_id: str, wait: float = 600.0) -> dict:
        """Every result of a finished job (waits for it, polling with ``wait`` seconds a call)."""
        while True:
            answer = self.request("GET", f"/v1/jobs/{job_id}/results?wait={wait:g}")
            if answer.get("results") is not None:
                return answer

    def stream(self, job_id: str) -> Iterator[dict]:
        """``{"index", "result"}`` per result as it finishes, then the ``{"end": state, ...}`` line."""
        with self._open("GET", f"/v1/jobs/{job_id}/stream") as resp:
            for line in resp:
                if line.strip():
                    yield json.loads(line)

    def cancel(self, job_id: str) -> dict:
        return self.request("DELETE", f"/v1/jobs/{job_id}")

    # ------------------------------------------------------------------ other routes
    def run(self, language: str, code: str, stdin: str = "", **limits) -> dict:
        """One arbitrary program (POST /v1/run): exit status, output, CPU and wall time."""
        return self.request("POST", "/v1/run", {"language": language, "code": code, "stdin": stdin,
                                                "request_id": uuid.uuid4().hex, **limits})

    def health(self) -> dict:
        return self.request("GET", "/health", retry=False)

    def metrics(self) -> dict:
        return self.request("GET", "/v1/metrics")
