"""The message loop: the handshake, one request at a time, every reply signed; the watchdog that
ends the container when the harness's connection closes."""
import hashlib
import hmac
import json
import os
import queue
import signal
import sys
import threading
import time

from .dispatch import Runner
from .protocol import ISOLATION, PROTOCOL_VERSION, harness_error

READY_FILE = os.environ.get("HX_READY_FILE", "/tmp/.hx-ready")
HELLO = {"ready": True, "protocol": PROTOCOL_VERSION, "isolation": ISOLATION}


def wait_ready(timeout=120):
    deadline = time.monotonic() + timeout
    while not os.path.exists(READY_FILE):
        if time.monotonic() > deadline:
            raise SystemExit("sandbox never became ready (%s missing)" % READY_FILE)
        time.sleep(0.05)


def preload():
    """Import the modules every program imports (HX_PRELOAD), once, before forking the zygote."""
    for name in [m for m in os.environ.get("HX_PRELOAD", "").split(",") if m]:
        try:
            __import__(name)
        except Exception:
            pass


def end_container():
    """The harness's connection is gone: end the container (its init forwards SIGTERM to its command)."""
    try:
        os.kill(1, signal.SIGTERM)
    except OSError:
        pass


def signed(key, res):
    body = json.dumps(res)
    return json.dumps({"body": body, "mac": hmac.new(key, body.encode(), hashlib.sha256).hexdigest()})


def lines(inp, on_lost):
    """The host's lines, read by a watchdog thread: when the connection closes (the harness exited or
    was killed) while a request is in flight, ``on_lost`` ends the container at once, whatever the
    runner is doing (a compiler's flood, a program at its limits); between requests serve() ends it.
    Yields each line until the connection closes."""
    q = queue.Queue()
    state = {"busy": False, "closed": False}
    lock = threading.Lock()

    def read():
        try:
            for line in inp:
                q.put(line)
        except (OSError, ValueError):
            pass
        with lock:
            state["closed"] = True
            busy = state["busy"]
        q.put(None)
        if busy:
            on_lost()

    threading.Thread(target=read, name="hx-watchdog", daemon=True).start()
    while True:
        line = q.get()
        if line is None:
            return
        with lock:  # a request whose harness is gone already is not worth running
            state["busy"] = not state["closed"]
        if state["busy"]:
            yield line
        with lock:
            state["busy"] = False


def serve(runner, inp, out, on_lost=None):
    key = None
    for line in lines(inp, on_lost or end_container):
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError:
            req = {}
        if key is None:  # the first line is the host's per-worker secret
            try:
                key = bytes.fromhex(req["key"])
            except (KeyError, TypeError, ValueError):
                return
            out.write(signed(key, {"id": "key", "protocol": PROTOCOL_VERSION, "isolation": ISOLATION}) + "\n")
            out.flush()
            continue
        try:
            if req.get("check"):
                problems = runner.health()
                res = {"id": req.get("id"), "healthy": not problems, "detail": "; ".join(problems)}
            else:
                res = runner.answer(req)
            text = signed(key, res)
        except Exception as exc:  # a runner bug is a harness error, never a model failure
            text = signed(key, harness_error(req.get("id"), "runner: %r" % (exc,)))
        out.write(text + "\n")
        out.flush()


def main():
    wait_ready()
    preload()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    runner = Runner()  # forks the zygote: before any key or request is read
    out = sys.stdout
    out.write(json.dumps(HELLO) + "\n")
    out.flush()
    try:
        serve(runner, sys.stdin, out)
    finally:
        runner.close()
        end_container()
