"""The contract between the host (humaneval_x) and the runner: one home for what both must agree on.

The runner imports this module as part of its package; the host loads this very file
(``humaneval_x/protocol.py``), so the two cannot drift. Standard library only.

Wire format: one JSON object per line. Handshake::

  runner -> host   {"ready": true, "protocol": PROTOCOL_VERSION, "isolation": ISOLATION}
  host -> runner   {"key": "<hex>"}
  runner -> host   signed {"id": "key", "protocol": ..., "isolation": ...}

then requests (``Request.to_wire``) or checks (``{"id": ..., "check": true}``), each answered by one
signed reply: ``{"body": "<json>", "mac": hmac_sha256(key, body)}``, the body an outcome
(``Outcome.to_wire``), a batch's ``{"id", "results": [outcome, ...]}``, or a check's
``{"id", "healthy", "detail"}``.
"""

# Bumped whenever a field's meaning, a default or the wire shape changes: a host refuses a runner
# (an image) that speaks another version.
PROTOCOL_VERSION = 1

# The isolation scheme of the runner: results cache keys and result digests include it, so verdicts
# from an older scheme (which a neighbouring program could spoil) are never reused.
# v2: seccomp per program, /proc masks, done-call checks; v3: RLIMIT_CPU soft == hard; v4: no Go batch
# member with package init code, half the worker's /tmp free before every compile, Go batch packages
# under a path drawn per batch.
ISOLATION = "ns-uid-v4"

STATUSES = ("passed", "failed", "compile_error", "runtime_error", "timeout", "harness_error")
MODEL_STATUSES = STATUSES[:-1]  # verdicts about the program; harness_error is never one
STAGES = ("assemble", "compile", "run")

OUTPUT_CAP = 4096                # characters of a stage's stdout and of its stderr kept (head and tail)
DEFAULT_COMPILE_TIMEOUT = 60.0   # wall seconds of a compile, when a request names none
DEFAULT_RUN_TIMEOUT = 20.0       # wall seconds of a run, when a request names none
DEFAULT_RUN_CPU = 10.0           # CPU seconds of a run, when a request names none
HOST_MARGIN_S = 60.0             # the host waits this long past a request's own limits


def harness_error(request_id, detail, stage=None):
    """The one way to say: the harness or the engine failed on this program (never the program's verdict)."""
    return {"id": request_id, "status": "harness_error", "stage": stage, "detail": detail}


def harness_error_for(request, detail):
    """``harness_error`` for a request as sent: a batch gets one per member."""
    if "batch" in request:
        return {"id": request.get("id"), "results": [harness_error_for(m, detail) for m in request["batch"]]}
    return harness_error(request.get("id"), detail)


class Request:
    """One program to run. ``to_wire``/``from_wire``: the JSON object of the protocol, both ways."""

    FIELDS = ("id", "files", "compile", "compile_server", "run", "python", "compile_timeout", "run_timeout",
              "run_cpu", "failure_markers", "crash_markers", "output_cap", "batch_info")
    __slots__ = FIELDS

    def __init__(self, id, files, run, compile=None, compile_server=None, python=False,
                 compile_timeout=DEFAULT_COMPILE_TIMEOUT, run_timeout=DEFAULT_RUN_TIMEOUT, run_cpu=DEFAULT_RUN_CPU,
                 failure_markers=(), crash_markers=(), output_cap=OUTPUT_CAP, batch_info=None):
        self.id = id
        self.files = dict(files)
        self.run = list(run)
        self.compile = list(compile) if compile else None
        self.compile_server = list(compile_server) if compile_server else None
        self.python = bool(python)
        self.compile_timeout = compile_timeout
        self.run_timeout = run_timeout
        self.run_cpu = run_cpu
        self.failure_markers = list(failure_markers)
        self.crash_markers = list(crash_markers)
        self.output_cap = int(output_cap)
        self.batch_info = batch_info

    def to_wire(self):
        wire = {name: getattr(self, name) for name in self.FIELDS if name != "batch_info"}
        if self.batch_info:
            wire["batch_info"] = self.batch_info
        return wire

    @classmethod
    def from_wire(cls, wire):
        """A request as received: every field the wire leaves out takes its default here."""
        return cls(**{name: wire[name] for name in cls.FIELDS if name in wire and wire[name] is not None})

    def __eq__(self, other):
        return isinstance(other, Request) and self.to_wire() == other.to_wire()

    def __repr__(self):
        return "Request(%r)" % (self.to_wire(),)


def host_timeout(request):
    """Host-side deadline for one request (wire form): the runner's own limits plus a wide margin."""
    if "batch" in request:  # the batch build, then (at worst) every member alone
        return (float(request.get("compile_timeout", DEFAULT_COMPILE_TIMEOUT))
                + sum(host_timeout(m) for m in request["batch"]))
    return (float(request.get("compile_timeout", DEFAULT_COMPILE_TIMEOUT))
            + float(request.get("run_timeout", DEFAULT_RUN_TIMEOUT)) + HOST_MARGIN_S)


class Stage:
    """What a compile or run stage reports."""

    FIELDS = ("returncode", "timed_out", "wall_s", "cpu_s", "stdout", "stderr")
    __slots__ = FIELDS + ("batch",)

    def __init__(self, returncode=None, timed_out=False, wall_s=None, cpu_s=None, stdout="", stderr="", batch=None):
        self.returncode, self.timed_out, self.wall_s, self.cpu_s = returncode, timed_out, wall_s, cpu_s
        self.stdout, self.stderr, self.batch = stdout, stderr, batch

    def to_wire(self):
        wire = {name: getattr(self, name) for name in self.FIELDS}
        if self.batch:  # compiled with this many others (wall_s: its share)
            wire["batch"] = self.batch
        return wire

    @classmethod
    def from_wire(cls, wire):
        return cls(**{k: wire.get(k) for k in cls.FIELDS + ("batch",) if k in wire})


class Outcome:
    """A program's verdict as the runner reports it: status, the stage it ended in, a detail, the stages."""

    __slots__ = ("id", "status", "stage", "detail", "compile", "run")

    def __init__(self, id, status, stage=None, detail="", compile=None, run=None):
        self.id, self.status, self.stage, self.detail = id, status, stage, detail
        self.compile, self.run = compile, run

    def to_wire(self):
        wire = {"id": self.id, "status": self.status, "stage": self.stage, "detail": self.detail}
        for name in ("compile", "run"):
            if getattr(self, name) is not None:
                wire[name] = getattr(self, name).to_wire()
        return wire

    @classmethod
    def from_wire(cls, wire):
        """An outcome as received; a status outside STATUSES is the harness's error, never a verdict."""
        status = wire.get("status")
        detail = wire.get("detail") or ""
        if status not in STATUSES:
            status, detail = "harness_error", "the runner answered no known status (%r)" % (status,)
        return cls(wire.get("id"), status, wire.get("stage"), detail,
                   *(Stage.from_wire(wire[n]) if isinstance(wire.get(n), dict) else None for n in ("compile", "run")))
