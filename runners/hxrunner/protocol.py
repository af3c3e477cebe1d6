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
PROTOCOL_VERSION = 2  # 2: a run stage's user_s

# The isolation scheme of the runner: results cache keys and result digests include it, so verdicts
# from an older scheme (which a neighbouring program could spoil) are never reused.
# v2: seccomp per program, /proc masks, done-call checks; v3: RLIMIT_CPU soft == hard; v4: no Go batch
# member with package init code, half the worker's /tmp free before every compile, Go batch packages
# under a path drawn per batch; v5: the CPU limit counts user time (the runner's poll), RLIMIT_CPU a backstop
# at 3 x limit + 1 (runners/hxrunner/waits.py).
ISOLATION = "ns-uid-v5"

STATUSES = ("passed", "failed", "compile_error", "runtime_error", "timeout", "harness_error")
MODEL_STATUSES = STATUSES[:-1]  # verdicts about the program; harness_error is never one
STAGES = ("assemble", "compile", "run")

OUTPUT_CAP = 4096                # characters of a stage's stdout and of its stderr kept (head and tail)
DEFAULT_COMPILE_TIMEOUT = 60.0   # wall seconds of a compile, when a request names none
DEFAULT_RUN_TIMEOUT = 20.0       # wall seconds of a run, when a request names none
DEFAULT_RUN_CPU = 10.0           # CPU seconds of a run, when a request names none
HOST_MARGIN_S = 60.0             # the host waits this long past a request's own limits


def harness_error(request_id, detail, stage=None):
    """The one way to say: the harness or the engine failed on this program (never the program's verdict).
    The wire form of ``Outcome.harness_error``."""
    return Outcome.harness_error(request_id, detail, stage).to_wire()


def harness_error_for(request, detail):
    """``harness_error`` for a request as sent (its wire form): a batch gets one per member."""
    if "batch" in request:
        return {"id": request.get("id"), "results": [harness_error_for(m, detail) for m in request["batch"]]}
    return harness_error(request.get("id"), detail)


class Request:
    """One program to run. ``to_wire``/``from_wire``: the JSON object of the protocol, both ways; every
    limit a request leaves out takes its default here (and only here)."""

    FIELDS = ("id", "files", "compile", "python", "compile_server", "run", "compile_timeout", "run_cpu",
              "run_timeout", "failure_markers", "crash_markers", "output_cap", "batch_info")
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
        """A request as received: every field the wire leaves out (or sends as null) takes its default."""
        return cls(**{name: wire[name] for name in cls.FIELDS if name in wire and wire[name] is not None},
                   **({} if wire.get("id") is not None else {"id": None}))

    def replace(self, **changes):
        """A copy with ``changes`` (field: value)."""
        return type(self)(**dict({name: getattr(self, name) for name in self.FIELDS}, **changes))

    def __eq__(self, other):
        return isinstance(other, Request) and self.to_wire() == other.to_wire()

    def __repr__(self):
        return "Request(%r)" % (self.to_wire(),)


class Batch:
    """Programs of one language that the runner compiles together (one build, ``kind``: the language
    module that builds it), each still run alone and answered with an outcome of its own. The wire form
    is ``{"id", "batch": [request, ...], "batch_kind", "compile_timeout", "run_timeout"}``, answered by
    ``{"id", "results": [outcome, ...]}`` in the members' order. ``compile_timeout``: the shared build's
    limit in all (past it, members not yet settled compile alone); ``run_timeout``: the members' together."""

    __slots__ = ("id", "members", "kind", "compile_timeout", "run_timeout")

    def __init__(self, id, members, kind, compile_timeout=None, run_timeout=None):
        self.id, self.members, self.kind = id, list(members), kind
        self.compile_timeout = (compile_timeout if compile_timeout is not None else
                                self.members[0].compile_timeout if self.members else DEFAULT_COMPILE_TIMEOUT)
        self.run_timeout = run_timeout if run_timeout is not None else sum(m.run_timeout for m in self.members)

    def to_wire(self):
        return {"id": self.id, "batch": [m.to_wire() for m in self.members], "batch_kind": self.kind,
                "compile_timeout": self.compile_timeout, "run_timeout": self.run_timeout}

    @classmethod
    def from_wire(cls, wire):
        return cls(wire.get("id"), [Request.from_wire(m) for m in wire["batch"]], wire.get("batch_kind"),
                   wire.get("compile_timeout"), wire.get("run_timeout"))

    def reply(self, outcomes):
        """The batch's answer (wire form): ``outcomes`` are its members', in their order."""
        return {"id": self.id, "results": [o.to_wire() for o in outcomes]}

    @staticmethod
    def outcomes(request, reply):
        """Each member's outcome from a batch's reply (both in wire form), in the members' order: a
        member the reply has no outcome for gets its harness_error (the reply's detail, if any)."""
        results = reply.get("results") or []
        return [Outcome.from_wire(results[i]) if i < len(results) and isinstance(results[i], dict) else
                Outcome.harness_error(m.get("id"), reply.get("detail") or "the batch returned no result for this program")
                for i, m in enumerate(request["batch"])]


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
    OPTIONAL = ("user_s", "batch")  # sent only when known
    __slots__ = FIELDS + OPTIONAL

    def __init__(self, returncode=None, timed_out=False, wall_s=None, cpu_s=None, stdout="", stderr="", batch=None,
                 user_s=None):
        self.returncode, self.timed_out, self.wall_s, self.cpu_s = returncode, timed_out, wall_s, cpu_s
        self.stdout, self.stderr, self.batch, self.user_s = stdout, stderr, batch, user_s

    def to_wire(self):
        wire = {name: getattr(self, name) for name in self.FIELDS}
        if self.user_s is not None:  # a run's user CPU seconds, what its CPU limit counts (cpu_s: user + system)
            wire["user_s"] = self.user_s
        if self.batch:  # compiled with this many others (wall_s: its share)
            wire["batch"] = self.batch
        return wire

    @classmethod
    def from_wire(cls, wire):
        """A stage as received (or a runner's raw stage report: its private fields are not sent): a field
        it leaves out is unknown (None), never a default."""
        return cls(*(wire.get(k) for k in cls.FIELDS), batch=wire.get("batch"), user_s=wire.get("user_s"))


class Outcome:
    """A program's verdict as the runner reports it: status, the stage it ended in, a detail, the stages."""

    __slots__ = ("id", "status", "stage", "detail", "compile", "run")

    def __init__(self, id, status, stage=None, detail="", compile=None, run=None):
        self.id, self.status, self.stage, self.detail = id, status, stage, detail
        self.compile, self.run = compile, run

    @classmethod
    def harness_error(cls, request_id, detail, stage=None, compile=None, run=None):
        """The harness or the engine failed on this program (never the program's verdict)."""
        return cls(request_id, "harness_error", stage, detail, compile, run)

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
