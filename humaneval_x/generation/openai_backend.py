"""Any OpenAI-compatible server (vLLM, SGLang, TGI, ``transformers serve``, hosted APIs) as a backend.

- ``/v1/completions`` with the raw prompt (the paper's setting), ``/v1/chat/completions`` with a
  conversation under ``--chat``: the code goes into the question, and the code of the answer is
  turned back into a continuation of the prompt (``continuation_from_answer``), so the same stop rule,
  clean-up and assembly apply as for every backend.
- Standard library only (urllib): ``concurrency`` worker threads, each with one request in flight,
  so at most (and, while work remains, exactly) that many requests are in flight.
- Every request has its own seed, derived from the task and its first sample index
  (``sample_seed``), so no two requests of a run share one; a request of one sample is seeded like
  that sample in every run.
- Retries with exponential backoff and jitter on connection failures, 408/409/425/429 and 5xx,
  honouring ``Retry-After``; a bounded number per request. Any other 4xx (wrong model name, wrong
  key, bad URL) is one clear ``HarnessError``: samples already delivered stay written.
- A server that answers ``n: k`` with fewer choices (``transformers serve`` answers with one) is asked
  again for the rest; one that rejects ``n > 1`` is asked one sample per request from then on.
- Our own stop rule is applied to what comes back; the server's stop list (the target language's
  ``server_stops``, at most 4 strings) is only a saving.
- The API key is read from the environment variable named by ``api_key_env`` (default
  ``OPENAI_API_KEY``, sent only when set) and is never written anywhere.
"""
from __future__ import annotations

import email.utils
import http.client
import json
import os
import queue
import random
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Iterable, List, Optional, Tuple

from ..errors import HarnessError
from ..extract import answer_code as extract_answer, defines_entry_point
from ..languages import LANGUAGES
from .backend import Backend, Completion, GenerationRequest, SamplingParams, sample_seed, server_stops

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
RETRY_STATUSES = frozenset({408, 409, 425, 429})  # and every 5xx
MAX_RETRY_AFTER = 300.0


# ------------------------------------------------------------------ chat answers -> continuations
def answer_code(answer: str, prompt: Optional[str] = None, language: Optional[str] = None) -> Tuple[str, bool]:
    """The code of a chat answer by the rules of humaneval_x/extract.py (reasoning removed; of several
    blocks, the last that defines the prompt's function; ``` or ~~~), else all of it; and whether that
    code came to an end (its fence was closed)."""
    defines = None
    if prompt is not None and language in LANGUAGES:
        defines = defines_entry_point(LANGUAGES[language], SimpleNamespace(prompt=prompt))
    code, _, closed = extract_answer(answer, defines)
    return code, closed


def _norm(line: str) -> str:
    return re.sub(r"\s+", "", line)


def _signature(prompt: str, language: str) -> Optional[str]:
    lines = [ln for ln in prompt.splitlines() if ln.strip()]
    if language == "python":
        defs = [ln for ln in lines if ln.lstrip().startswith("def ")]
        return defs[-1] if defs else None
    return lines[-1] if lines else None  # C-like prompts end with the function's opening line


def _name_of(signature: str, language: str) -> Optional[str]:
    pattern = r"def\s+(\w+)" if language == "python" else r"(?:const|let|var|function)\s+(\w+)|(\w+)\s*\("
    m = re.search(pattern, signature)
    return next((g for g in m.groups() if g), None) if m else None


def _skip_docstring(lines: List[str]) -> List[str]:
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        return lines
    first = lines[i].strip()
    quote = first[:3] if first[:3] in ('"""', "'''") else None
    if quote is None:
        return lines
    if first.count(quote) >= 2 and len(first) > 3:  # one-line docstring
        return lines[i + 1:]
    for j in range(i + 1, len(lines)):
        if quote in lines[j]:
            return lines[j + 1:]
    return lines


def continuation_from_answer(prompt: str, answer: str, language: str) -> str:
    return _continuation(prompt, answer, language)[0]


def _valid_text(value) -> str:
    """A server's text as valid Unicode: JSON can carry lone surrogates (\\ud800), which no file or
    compiler takes; each becomes U+FFFD, as a byte-level decoder would give."""
    text = str(value or "")
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _continuation(prompt: str, answer: str, language: str) -> Tuple[str, bool]:
    """A chat answer as a continuation of ``prompt`` (the completion the assembly appends to it).

    The answer's code usually restates the function: everything after the line that matches the
    prompt's function header is the continuation (for Python, a restated docstring is skipped too,
    as the prompt holds it). An answer without the header is taken to be the body itself.
    """
    code, closed = answer_code(answer, prompt, language)
    lines = code.splitlines()
    sig = _signature(prompt, language)
    at = None
    if sig is not None:
        target = _norm(sig)
        at = next((i for i, ln in enumerate(lines) if target and _norm(ln) == target), None)
        name = _name_of(sig, language) if at is None else None
        if name:
            defining = re.compile(rf"\b{re.escape(name)}\b\s*(\(|=)")
            at = next((i for i, ln in enumerate(lines) if defining.search(ln)), None)
    if at is None:
        return code, closed
    rest = lines[at + 1:]
    if language == "python":
        rest = _skip_docstring(rest)
    return "\n".join(rest) + "\n", closed


# ------------------------------------------------------------------ HTTP
class _Retry(Exception):
    def __init__(self, why: str, retry_after: Optional[float] = None):
        super().__init__(why)
        self.retry_after = retry_after


class _Refused(Exception):
    """A 4xx that retrying cannot mend."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _server_message(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:300]
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message", data)))
        if isinstance(err, dict):
            err = err.get("message", err)
        text = err if isinstance(err, str) else json.dumps(err)
    return " ".join(str(text).split())[:300]


def normalize_base_url(base_url: str) -> str:
    """``http://host:8000`` -> ``http://host:8000/v1``; a URL with a path is kept (minus a trailing /)."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HarnessError(f"--base-url {base_url!r}: give an http(s) URL like http://127.0.0.1:8000/v1")
    path = parts.path.rstrip("/") or "/v1"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _public_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # never record credentials written into the URL
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass
class _Job:
    req: GenerationRequest
    indices: tuple
    language: str


class OpenAIBackend(Backend):
    name = "openai"
    chat_messages = True

    def __init__(self, model: Optional[str] = None, base_url: Optional[str] = None,
                 api_key_env: Optional[str] = None, concurrency: Optional[int] = None, max_retries: int = 8,
                 backoff: float = 0.5, max_backoff: float = 30.0, timeout: float = 600.0, max_n: int = 128,
                 log: Optional[Callable[[str], None]] = None, **_):
        if not model:
            raise HarnessError("--backend openai needs --model NAME: the model name the server serves "
                               "(GET BASE_URL/models lists them)")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise HarnessError("--backend openai needs --base-url URL (e.g. http://127.0.0.1:8000/v1) "
                               "or OPENAI_BASE_URL")
        self.model = str(model)
        self.base_url = normalize_base_url(base_url)
        self.api_key_env = api_key_env or DEFAULT_KEY_ENV
        if api_key_env and not os.environ.get(api_key_env):
            raise HarnessError(f"--api-key-env {api_key_env}: no such environment variable is set")
        self.concurrency = int(concurrency or 8)
        if self.concurrency < 1:
            raise HarnessError(f"--concurrency must be a positive integer (got {concurrency!r})")
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.timeout, self.max_n = timeout, max_n
        self._log = log or (lambda msg: print(f"openai backend: {msg}", file=sys.stderr))
        self._lock = threading.Lock()
        self._said: set = set()
        self.stats = {"requests": 0, "retries": 0, "reasks": 0, "prompt_tokens": 0, "completion_tokens": 0,
                      "finish_reasons": {}}

    # ------------------------------------------------------------------ interface
    def describe(self) -> dict:
        with self._lock:
            stats = json.loads(json.dumps(self.stats))
        return {"backend": self.name, "model": self.model, "base_url": _public_url(self.base_url),
                "api_key_env": self.api_key_env, "concurrency": self.concurrency, "max_n_per_request": self.max_n,
                "max_retries": self.max_retries, "server": stats}

    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        from ..languages import language_of_task

        requests = [r for r in requests if r.sample_indices]
        total = sum(len(r.sample_indices) for r in requests)
        if not total:
            return
        # enough requests to keep every slot busy (a server batches them), at most max_n samples each
        chunk = max(1, min(self.max_n, -(-total // self.concurrency)))
        todo: "queue.Queue[Optional[_Job]]" = queue.Queue()
        done: "queue.Queue[tuple]" = queue.Queue()
        stop = threading.Event()
        pending = 0
        for r in requests:
            lang = language_of_task(r.key[0]).name
            for i in range(0, len(r.sample_indices), chunk):
                todo.put(_Job(r, tuple(r.sample_indices[i:i + chunk]), lang))
                pending += 1

        def worker():
            while True:
                job = todo.get()
                if job is None:
                    return
                if stop.is_set():
                    done.put((job, None, None))
                    continue
                try:
                    done.put((job, self._ask(job, params, stop), None))
                except BaseException as exc:  # fatal: nothing new starts; the main thread raises it
                    stop.set()
                    done.put((job, None, exc))

        threads = [threading.Thread(target=worker, name=f"openai-{i}", daemon=True) for i in range(self.concurrency)]
        for t in threads:
            t.start()
        error: Optional[BaseException] = None
        try:
            while pending:
                job, reply, exc = done.get()
                pending -= 1
                if exc is not None:
                    if error is None:
                        error = exc
                        stop.set()  # nothing new starts; what is in flight is still delivered
                    continue
                if reply is None:
                    continue
                for again in self._deliver(job, reply, on_completion):
                    if stop.is_set():
                        break
                    todo.put(again)
                    pending += 1
        except BaseException:
            stop.set()
            raise
        finally:
            for _ in threads:
                todo.put(None)
        if error is not None:
            if isinstance(error, HarnessError):
                raise error
            if isinstance(error, _Refused):
                raise HarnessError(str(error)) from None
            raise error

    # ------------------------------------------------------------------ one request, with retries
    def _body(self, job: _Job, params: SamplingParams, n: int) -> Tuple[str, dict]:
        body = {"model": self.model, "n": n, "max_tokens": params.max_new_tokens,
                "temperature": params.temperature, "top_p": params.top_p,
                # distinct per request; 31 bits, which every server accepts
                "seed": sample_seed(params.seed, job.req.key, job.indices[0]) & 0x7FFFFFFF}
        if job.req.messages is not None:
            body["messages"] = job.req.messages
            return "/chat/completions", body  # no server stops: the answer's fences are ours to read
        body["prompt"] = job.req.prompt
        stops = server_stops(job.req.key)
        if stops:
            body["stop"] = stops
        return "/completions", body

    def _ask(self, job: _Job, params: SamplingParams, stop: threading.Event) -> dict:
        with self._lock:
            n = min(len(job.indices), self.max_n)
        path, body = self._body(job, params, n)
        attempt = 0
        while True:
            try:
                with self._lock:
                    self.stats["requests"] += 1
                return self._post(path, body)
            except _Retry as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise HarnessError(f"{self.base_url}{path}: no answer after {self.max_retries} retries "
                                       f"(last: {exc}); rerun to continue, samples so far are kept") from None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, MAX_RETRY_AFTER))
                with self._lock:
                    self.stats["retries"] += 1
                self._say_once(f"retry:{str(exc)[:20]}", f"{exc}; retrying (backoff with jitter, "
                               f"at most {self.max_retries} times per request)")
                if stop.wait(delay):
                    raise _Retry("stopped")
            except _Refused as exc:
                if n > 1 and exc.status in (400, 422) and re.search(r"\bn\b", str(exc)):
                    with self._lock:
                        self.max_n = 1
                    self._say_once("n=1", f"the server refuses n={n} ({exc}); asking one sample per request")
                    n = 1
                    path, body = self._body(job, params, 1)
                    continue
                raise HarnessError(f"{self.base_url}{path} answered {exc.status}: {exc} "
                                   f"(check --model, --base-url and the key in ${self.api_key_env}; "
                                   "samples generated so far are kept)") from None

    def _post(self, path: str, body: dict) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "humaneval-x"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            try:
                payload = exc.read()
            except (OSError, http.client.HTTPException):
                payload = b""
            message = _server_message(payload) or exc.reason
            if exc.code in RETRY_STATUSES or exc.code >= 500:
                raise _Retry(f"HTTP {exc.code}: {message}", _retry_after(exc.headers.get("Retry-After"))) from None
            raise _Refused(exc.code, message) from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout,
                TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _Retry(f"{type(reason).__name__}: {reason}") from None
        try:
            reply = json.loads(raw)
        except ValueError:
            raise _Retry(f"the server's reply is not JSON: {raw[:80]!r}") from None
        if not isinstance(reply, dict) or not isinstance(reply.get("choices"), list) \
                or not any(isinstance(c, dict) for c in reply["choices"]):
            raise _Retry(f"a reply without choices: {str(reply)[:120]}")  # no progress: a failed attempt
        return reply

    # ------------------------------------------------------------------ a reply -> samples (+ what is still owed)
    def _deliver(self, job: _Job, reply: dict, on_completion: Callable[[Completion], None]) -> List[_Job]:
        choices = sorted((c for c in reply["choices"] if isinstance(c, dict)), key=lambda c: c.get("index") or 0)
        choices = choices[:len(job.indices)]
        usage = reply.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_total = int(usage.get("completion_tokens") or 0)
        with self._lock:
            self.stats["prompt_tokens"] += prompt_tokens
            self.stats["completion_tokens"] += completion_total
        # per-choice counts are not reported: an equal share each (sums to the server's total)
        share, extra = divmod(completion_total, max(1, len(choices)))
        for j, (choice, s) in enumerate(zip(choices, job.indices)):
            text, answer, ended = self._text_of(job, choice)
            cut = job.req.stop(text) if job.req.stop is not None else None
            server_reason = choice.get("finish_reason")
            if cut is not None:
                text, reason = text[:cut], "stop"
            elif ended:  # a chat answer's code block closed: the code ended there
                reason = "stop"
            else:
                reason = "length" if server_reason == "length" else "eos"
            with self._lock:
                fr = self.stats["finish_reasons"]
                fr[str(server_reason)] = fr.get(str(server_reason), 0) + 1
            on_completion(Completion(job.req.key, s, text, reason, prompt_tokens,
                                     share + (1 if j < extra else 0), answer, _reasoning_of(job, choice)))
        rest = job.indices[len(choices):]
        if not rest:
            return []
        with self._lock:
            self.stats["reasks"] += 1
        self._say_once("fewer", f"the server answered {len(choices)} of {len(job.indices)} choices asked; "
                       "asking again for the rest (every sample gets its own)")
        return [_Job(job.req, rest, job.language)]

    def _text_of(self, job: _Job, choice: dict) -> Tuple[str, Optional[str], bool]:
        """(completion text, the chat answer or None, whether a chat answer's code block was closed)."""
        if job.req.messages is None:
            return _valid_text(choice.get("text")), None, False
        answer = _valid_text((choice.get("message") or {}).get("content"))
        text, closed = _continuation(job.req.prompt, answer, job.language)
        return text, answer, closed

    def _say_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._said:
                return
            self._said.add(kind)
        self._log(message)


def _reasoning_of(job: _Job, choice: dict) -> Optional[str]:
    """A chat answer's separate reasoning (``reasoning_content``: vLLM, SGLang, DeepSeek; ``reasoning``:
    newer vLLM, OpenRouter): kept beside the answer, never read as code."""
    if job.req.messages is None:
        return None
    message = choice.get("message") or {}
    value = message.get("reasoning_content") or message.get("reasoning")
    return _valid_text(value) if isinstance(value, str) and value else None
