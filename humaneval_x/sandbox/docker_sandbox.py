"""A long-lived Docker worker container running the in-container runner.

The container idles (``sleep infinity`` under Docker's init); the runner is started in it
with ``docker exec`` and fed JSON requests through the exec's attached stdin. The
container has no network, memory, pid and CPU limits, a read-only root with a tmpfs
``/tmp``, and only the capabilities the runner needs to put each program in namespaces
and a uid of its own (see ``runners/hxrunner/``); programs themselves have none.

Every reply is MAC'd with a per-worker secret chosen here and bound to its request id:
one that does not verify condemns the worker (``SandboxCondemned``).

Workers do not outlive their harness: the runner ends the container when its connection
closes (the harness exited or was killed), the container removes itself, and a new run
removes workers whose owning process is gone.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import struct
import threading
import time
import uuid

from ..errors import SandboxError
from ..protocol import check_handshake
from .base import Sandbox, SandboxCondemned, SandboxDied, SandboxLimits

RUNNER_CMD = ["python3", "-u", "/opt/hx/runner.py"]
LABEL = "org.humaneval-x.worker"
OWNER_LABEL = "org.humaneval-x.owner"
# what the runner needs (as root in the container) to give each program namespaces, a uid and
# private mounts of its own, and to kill what a compiler leaves; programs run with none of them
RUNNER_CAPS = ["SETUID", "SETGID", "SYS_ADMIN", "CHOWN", "FOWNER", "DAC_OVERRIDE", "KILL"]


def _start_ticks(pid) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_identity() -> str:
    """This harness process, as workers record it: host, pid and the pid's start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is on this host and its process is gone (or the pid was reused)."""
    try:
        host, pid, ticks = owner.rsplit(":", 2)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine's run: not ours to judge
    return _start_ticks(pid) == ticks and ticks != ""


class DockerSandbox(Sandbox):
    def __init__(self, language: str, image: str, limits: SandboxLimits = SandboxLimits(), client=None,
                 start_timeout: float = 180.0):
        self.language = language
        self.image = image
        self.limits = limits
        self._client = client
        self.start_timeout = start_timeout
        self.container = None
        self._sock = None
        self._buf = b""
        self._key = b""
        self.isolation = None
        self.stderr_tail = b""

    @property
    def client(self):
        if self._client is None:
            import docker
            self._client = docker.from_env(timeout=300)
        return self._client

    @property
    def identity(self) -> str:
        return self.client.images.get(self.image).id

    def start(self) -> None:
        import docker
        _sweep_once(self.client)
        kwargs = dict(
            detach=True, init=True, auto_remove=True, network_mode="none", read_only=True,
            tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={self.limits.tmpfs},mode=1777"},
            mem_limit=self.limits.memory, memswap_limit=self.limits.memory, pids_limit=self.limits.pids,
            cap_drop=["ALL"], cap_add=RUNNER_CAPS, security_opt=["no-new-privileges"], user="0:0",
            labels={LABEL: self.language, OWNER_LABEL: owner_identity()},
            name=f"hx-{self.language}-{uuid.uuid4().hex[:10]}")
        if self.limits.cpus:
            kwargs["nano_cpus"] = int(self.limits.cpus * 1e9)
        try:
            self.container = self.client.containers.run(self.image, **kwargs)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(f"sandbox image {self.image} is missing: run `humaneval-x sandbox build`") from exc
        except docker.errors.DockerException as exc:
            raise SandboxError(f"cannot start a {self.language} sandbox: {exc}") from exc
        try:
            self._open_runner()
        except BaseException:
            self.stop()
            raise

    def _open_runner(self) -> None:
        api = self.client.api
        exec_id = api.exec_create(self.container.id, RUNNER_CMD, stdin=True, stdout=True, stderr=True)["Id"]
        raw = api.exec_start(exec_id, socket=True)
        self._sock = getattr(raw, "_sock", raw)
        self._buf = b""
        hello = self._read_line(self.start_timeout)
        if not hello.get("ready"):
            raise SandboxDied(f"runner did not say ready: {hello}")
        check_handshake(self.image, hello)
        self._key = secrets.token_bytes(32)
        self._send({"key": self._key.hex()})
        signed = self._read_reply("key", self.start_timeout)
        check_handshake(self.image, signed)  # the same, under the key: what the runner really speaks
        self.isolation = signed.get("isolation")

    def _send(self, message: dict) -> None:
        if self._sock is None:
            raise SandboxDied("sandbox not started")
        try:
            self._sock.sendall((json.dumps(message) + "\n").encode())
        except OSError as exc:
            raise SandboxDied(f"cannot send to the runner: {exc}") from exc

    def execute(self, request: dict, timeout: float) -> dict:
        self._send(request)
        return self._read_reply(request.get("id"), timeout)

    def check(self, timeout: float = 60.0) -> None:
        nonce = "check:" + secrets.token_hex(8)
        self._send({"id": nonce, "check": True})
        reply = self._read_reply(nonce, timeout)
        if not reply.get("healthy"):
            raise SandboxCondemned(f"health check failed: {reply.get('detail')}")

    def _read_reply(self, request_id, timeout: float) -> dict:
        """The next reply, verified: MAC'd with this worker's key and about ``request_id``."""
        envelope = self._read_line(timeout)
        body, mac = envelope.get("body"), envelope.get("mac")
        if not isinstance(body, str) or not isinstance(mac, str):
            raise SandboxCondemned(f"unsigned reply: {str(envelope)[:200]}")
        expected = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            raise SandboxCondemned("a reply that does not verify")
        reply = json.loads(body)
        if reply.get("id") != request_id:
            raise SandboxCondemned(f"a reply about {reply.get('id')!r} while waiting for {request_id!r}")
        return reply

    # -- the exec stream: 8-byte frame headers (stream id, size), stdout=1, stderr=2
    def _recv_exact(self, n: int, deadline: float) -> bytes:
        data = b""
        while len(data) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxDied("the runner did not answer in time")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(n - len(data))
            except socket.timeout:
                raise SandboxDied("the runner did not answer in time") from None
            except OSError as exc:
                raise SandboxDied(f"lost the runner: {exc}") from exc
            if not chunk:
                raise SandboxDied("the runner exited" + self._stderr_note())
            data += chunk
        return data

    def _stderr_note(self) -> str:
        tail = self.stderr_tail.decode("utf-8", "replace").strip()
        return f" (stderr: {tail[-500:]})" if tail else ""

    def _read_line(self, timeout: float) -> dict:
        if self._sock is None:
            raise SandboxDied("sandbox not started")
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            stream, size = struct.unpack(">BxxxL", self._recv_exact(8, deadline))
            payload = self._recv_exact(size, deadline)
            if stream == 1:
                self._buf += payload
            else:
                self.stderr_tail = (self.stderr_tail + payload)[-4000:]
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SandboxCondemned(f"runner sent garbage: {line[:200]!r}") from exc
        if not isinstance(message, dict):
            raise SandboxCondemned(f"runner sent garbage: {line[:200]!r}")
        return message

    def stop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except Exception:
                pass
            self.container = None


_swept = threading.Lock()
_swept_done = []


def _sweep_once(client) -> None:
    """Once per harness process: remove workers left behind by runs that are gone."""
    with _swept:
        if not _swept_done:
            _swept_done.append(True)
            try:
                remove_stale_workers(client)
            except Exception:
                pass


def remove_stale_workers(client=None, everything: bool = False) -> int:
    """Remove worker containers whose owning harness process is gone (all of them with ``everything``)."""
    import docker
    client = client or docker.from_env()
    n = 0
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        if not everything and owner_alive(c.labels.get(OWNER_LABEL, "")):
            continue
        try:
            c.remove(force=True)
            n += 1
        except docker.errors.DockerException:
            pass
    return n
