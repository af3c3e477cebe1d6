"""In-sandbox runner for HumanEval-X programs: the boundary around every program.

Runs as root inside a worker container (read-only root, tmpfs /tmp, no network, the
capabilities SETUID, SETGID, SYS_ADMIN, CHOWN, FOWNER, DAC_OVERRIDE, KILL only,
no-new-privileges), started as ``python3 -u /opt/hx/runner.py``. Standard library only: it
ships whole into every language image, and the image tag hashes every file of it.

One module per job:

  protocol    what host and runner agree on (the host loads this very file): statuses, isolation
              scheme, output caps, default limits, request/outcome types, harness_error
  loop        the message loop on stdin/stdout, the handshake and reply signing
  dispatch    a request: stage, compile, run, judge (the Runner); batches go to their language
  verdict     the verdict rule (pure: a run's outcome -> status and detail)
  policy      the boundary as data: uids, rlimits, tmpfs sizes, /proc masks, blocked system calls
  linux       Linux calls not in ``os`` (ctypes): unshare, mount, prctl
  seccomp     a program's seccomp filter: assembled from the policy (pure), installed
  jail        the mechanism: a program's namespaces, mounts, uid, limits and files
  zygote      the process that forks programs (forked before the key is known)
  pyfork      a Python program run in a fork of the preloaded interpreter, as `python3 main.py` would
  stages      staging folders, compiler stages, a program's run, scratch-space upkeep
  capture     captured output: memfd files, read capped
  langs/      one module per language with logic of its own (Go batching, Java's compile server)

The protocol (see ``protocol`` and ``loop``)::

  runner -> host   {"ready": true, "protocol": ..., "isolation": ...}
  host -> runner   {"key": "<hex>"}          per-worker secret, chosen by the host
  host -> runner   request, or {"id": ..., "check": true}
  runner -> host   {"body": "<json>", "mac": hmac_sha256(key, body)}

Every reply carries the request's id inside its MAC'd body, so a reply that a program
managed to write, or one shifted from another request, does not verify and condemns
the worker on the host side.

Requests, batches and outcomes are ``protocol.Request``, ``protocol.Batch`` and ``protocol.Outcome``
(with ``protocol.Stage``): ``dispatch`` decodes what it receives with their ``from_wire`` and answers
with their ``to_wire``; their defaults are the protocol's only.

How a program runs (see docs/isolation.md):
- Compilers run as the build uid in a staging folder; they run no program code
  (Go without cgo, javac without annotation processing, g++).
- The program itself runs in fresh pid, mount and IPC namespaces, as a uid of its own
  with no capabilities and a seccomp filter of its own (no new namespaces, hence no user
  namespace; no mount calls): /proc (Docker's masks applied again) shows only its own
  processes; /tmp, /dev/shm and /dev/mqueue are fresh size-limited tmpfs; its working folder
  /tmp/work holds copies of the staged files; HOME and TMPDIR point there. When it ends, the
  namespace's init exits and the kernel kills whatever it left running; its mounts vanish with it.
- The sentinel (the proof that the test suite ran to its end) is chosen here, at random,
  per execution, and handed to the program on a pipe as its stdin, which the harness's
  own code reads (and closes) before the program's code runs. It is in no file, argv or
  environment, and in no process the program can see.
- Programs are forked by a zygote: a process forked from this runner before it learnt
  the key, holding the preloaded Python modules (Python programs run in a fork of it,
  without an interpreter start-up) and nothing secret.
- Captured output goes to memfd files (no path: nothing to replace by a symlink).
"""
