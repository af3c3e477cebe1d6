"""The runner's pure parts, tested on the host without Docker: the runner package (runners/hxrunner/,
standard library only) is imported as it is shipped into the images."""
import json
import os
import re
import signal
import struct
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "runners"))

from hxrunner import capture, loop, policy, protocol, seccomp, verdict  # noqa: E402
from hxrunner.langs import BATCH_BUILDERS, go  # noqa: E402


# ---------------------------------------------------------------- the verdict rule
SENT = "HX_SUITE_DONE_" + "ab" * 16
REQ = protocol.Request("t", {}, ["./t"], failure_markers=["AssertionError"], crash_markers=["Segmentation fault"])


def judge(rc, stdout="", stderr="", timed_out=False, out_bytes=None, sentinel=SENT, req=REQ):
    run = {"returncode": rc, "timed_out": timed_out, "stdout": stdout, "stderr": stderr}
    return verdict.verdict(req, run, stdout.encode() if out_bytes is None else out_bytes, sentinel)[0]


@pytest.mark.parametrize("case, expected", [
    (dict(rc=0, stdout="ok\n%s\n" % SENT), "passed"),
    (dict(rc=0, stdout="ok\n"), "failed"),                                         # exit 0 before the suite's end
    (dict(rc=0, stdout="ok%s\n" % SENT), "failed"),                                # the sentinel on a line of its own only
    (dict(rc=0, stdout="\n%s\n" % SENT, sentinel=None), "failed"),                 # no sentinel drawn: never passed
    (dict(rc=0, stdout="\n%s\n" % SENT, timed_out=True), "timeout"),               # the limit wins over everything
    (dict(rc=1, stderr="AssertionError: x"), "failed"),
    (dict(rc=1, stderr="AssertionError\nSegmentation fault"), "runtime_error"),    # a crash before an assertion
    (dict(rc=-signal.SIGXFSZ, stderr="AssertionError"), "runtime_error"),          # output limit first
    (dict(rc=1, out_bytes=b"x" * policy.RUN_FILE_LIMIT), "runtime_error"),
    (dict(rc=-9), "runtime_error"),
    (dict(rc=3), "runtime_error"),
    (dict(rc=None), "runtime_error"),
])
def test_verdict_rule(case, expected):
    assert judge(**case) == expected


def test_verdict_details_name_the_cause():
    run = {"returncode": -11, "timed_out": False, "stdout": "", "stderr": ""}
    bare = protocol.Request.from_wire({"id": "t", "files": {}, "run": ["./t"]})  # no markers
    assert verdict.verdict(bare, run, b"", SENT) == ("runtime_error", "killed by signal 11")
    run["returncode"] = 2
    assert verdict.verdict(bare, run, b"", SENT) == ("runtime_error", "exited with status 2")


# ---------------------------------------------------------------- the seccomp program
def run_bpf(prog, nr, arch, arg0=0):
    """A classic-BPF interpreter for the instructions the filter uses, over struct seccomp_data."""
    data = struct.pack("<iI", nr, arch) + struct.pack("<Q", 0) + struct.pack("<Q", arg0)
    ins = [struct.unpack("HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = ins[pc]
        if code == seccomp.LD_ABS_W:
            acc = struct.unpack_from("<I", data, k)[0]
        elif code == seccomp.RET_K:
            return k
        elif code == seccomp.JEQ_K:
            pc += jt if acc == k else jf
        elif code == seccomp.JGE_K:
            pc += jt if acc >= k else jf
        elif code == seccomp.JSET_K:
            pc += jt if acc & k else jf
        else:
            raise AssertionError("unexpected opcode %#x" % code)
        pc += 1


@pytest.mark.parametrize("machine", sorted(policy.BLOCKED_SYSCALLS))
def test_seccomp_program_blocks_exactly_the_policy(machine):
    prog, count = seccomp.assemble(machine)
    assert len(prog) == 8 * count
    arch, calls = policy.BLOCKED_SYSCALLS[machine]
    blocked = {n for name, n in calls.items() if name not in ("clone", "clone3")}
    for nr in range(0, 600):
        if nr in (calls["clone"], calls["clone3"]):
            continue
        got = run_bpf(prog, nr, arch)
        assert got == (seccomp.RET_EPERM if nr in blocked else seccomp.RET_ALLOW), (machine, nr)
    assert run_bpf(prog, calls["clone3"], arch) == seccomp.RET_ENOSYS            # libc falls back to clone
    assert run_bpf(prog, calls["clone"], arch, arg0=0x11 | 0x100) == seccomp.RET_ALLOW  # fork, threads
    for flag in (0x10000000, 0x20000000, 0x00020000, 0x40000000, 0x04000000, 0x08000000, 0x02000000, 0x80):
        assert run_bpf(prog, calls["clone"], arch, arg0=flag) == seccomp.RET_EPERM, hex(flag)
    assert run_bpf(prog, 0, 0x40000003) == seccomp.RET_EPERM                      # i386 system calls
    if machine == "x86_64":
        assert run_bpf(prog, 0x40000000 | 1, arch) == seccomp.RET_EPERM          # x32
    assert seccomp.assemble("sparc") is None


# ---------------------------------------------------------------- Go batches: parsing go's messages
def test_go_sections_are_read_in_linear_time_and_capped():
    """go vet quotes arguments verbatim: a raw string of many lines is as many lines of messages. Reading
    them took time quadratic in their length (a batch of 3 sat 465 s); now linear, and a section keeps at
    most SECTION_KEEP characters."""
    ns = "hxb0123456789abcdef"
    flood = "./p.go:5:8: redundant or: s == `\n" + ("x" * 60 + "\n") * 100_000 + "` || s == `x`\n"
    text = "# %s/hxp2\n%s# %s/hxp7\n./p.go:3:1: x declared and not used\n# other/pkg\nnot ours\n" % (ns, flood, ns)
    start = time.perf_counter()
    sections = go.sections(text, ns)
    elapsed = time.perf_counter() - start
    assert set(sections) == {2, 7}
    assert len(sections[2]) == go.SECTION_KEEP and sections[2].startswith("./p.go:5:8: redundant or")
    assert sections[7] == "./p.go:3:1: x declared and not used\n"
    assert elapsed < 2.0, elapsed  # linear: well under a second; the quadratic reading took minutes


def test_go_sections_ignore_headers_of_other_namespaces():
    ns = "hxbfeedfacefeedface"
    text = "# hxb0000000000000000/hxp1\nforged\n# %s/hxp²\nforged\n# %s/hxp3\nreal\n" % (ns, ns)
    assert go.sections(text, ns) == {3: "real\n"}


def test_go_init_members_from_the_symbol_table():
    ns = "hxb00112233aabbccdd"
    nm = ("  4a1b20 T %s/hxp3.init\n  4a1c00 T %s/hxp5.init.0\n  4a1d00 T %s/hxp6.F\n"
          "  4a1e00 T hxbffffffffffffffff/hxp7.init\n  4a1f00 t %s/hxp8.init\n" % (ns, ns, ns, ns))
    assert go.init_members(nm, ns) == {3, 5}


def test_go_driver_runs_one_member_by_its_number():
    src = go.driver_source({0: "TestA", 4: "TestB"}, "hxbns")
    assert '"hxbns/hxp0"' in src and '"hxbns/hxp4"' in src and "hxp1" not in src
    assert 'case "4":\n        hxp4.TestMain(m)' in src
    assert "func TestHx4(t *testing.T) { hxp4.TestB(t) }" in src
    assert re.search(r"os\.Exit\(125\)", src)


def test_batch_builders_are_the_language_modules():
    from hxrunner.langs import rust
    assert BATCH_BUILDERS == {"go": go.build_batch, "rust": rust.build_batch}


# ---------------------------------------------------------------- capture
def test_capture_files_are_read_only_as_far_as_kept():
    fd = os.memfd_create("t")
    try:
        os.write(fd, b"a" * 5000 + b"b" * 5000)
        text, data = capture.read_capped(fd, 100, keep=3000)
        assert data == b"a" * 3000
        assert text.startswith("a" * 50) and text.endswith("b" * 50) and "[9900 bytes cut]" in text
        text, data = capture.read_capped(fd, 100)
        assert len(data) == 10000
    finally:
        os.close(fd)


# ---------------------------------------------------------------- the message loop and its watchdog
class BlockingRunner:
    """Stands in for the runner: a request runs until released (a flood being read, a program at its limits)."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()

    def answer(self, req):
        self.started.set()
        self.release.wait(30)
        return {"id": req.get("id"), "status": "passed"}


def test_the_runner_notices_a_closed_connection_while_a_request_is_in_flight():
    """The runner read its connection only between requests: a harness killed while one ran left its worker
    busy for as long as the request took. A watchdog thread ends the container as soon as the connection
    closes, whatever the request is doing."""
    r, w = os.pipe()
    inp, host = os.fdopen(r, "r"), os.fdopen(w, "w")
    out = open(os.devnull, "w")
    fake, lost = BlockingRunner(), threading.Event()
    t = threading.Thread(target=loop.serve, args=(fake, inp, out), kwargs={"on_lost": lost.set}, daemon=True)
    t.start()
    host.write(json.dumps({"key": "00" * 32}) + "\n" + json.dumps({"id": "r1", "files": {}}) + "\n")
    host.flush()
    assert fake.started.wait(10)
    assert not lost.is_set()
    host.close()  # the harness is gone
    start = time.monotonic()
    assert lost.wait(5), "the closed connection went unnoticed while the request ran"
    assert time.monotonic() - start < 2
    fake.release.set()
    t.join(10)
    assert not t.is_alive()
    out.close()


def test_a_closed_connection_between_requests_just_ends_serving():
    r, w = os.pipe()
    inp, host = os.fdopen(r, "r"), os.fdopen(w, "w")
    out = open(os.devnull, "w")
    lost = threading.Event()
    host.write(json.dumps({"key": "00" * 32}) + "\n")
    host.close()
    loop.serve(BlockingRunner(), inp, out, on_lost=lost.set)  # returns: main() then ends the container
    assert not lost.is_set()
    out.close()


def test_replies_are_signed_and_bound_to_their_request():
    import hashlib
    import hmac
    key = bytes(range(32))
    r, w = os.pipe()
    inp, host = os.fdopen(r, "r"), os.fdopen(w, "w")
    rr, ww = os.pipe()
    out, got = os.fdopen(ww, "w"), os.fdopen(rr, "r")

    class Echo:
        def answer(self, req):
            return {"id": req["id"], "status": "passed"}

    t = threading.Thread(target=loop.serve, args=(Echo(), inp, out), kwargs={"on_lost": lambda: None}, daemon=True)
    t.start()
    host.write(json.dumps({"key": key.hex()}) + "\n" + json.dumps({"id": "r7", "files": {}}) + "\n")
    host.flush()
    replies = [json.loads(got.readline()) for _ in range(2)]  # the connection stays open while they are read
    host.close()
    t.join(10)
    out.close()
    for reply in replies:
        assert hmac.compare_digest(reply["mac"], hmac.new(key, reply["body"].encode(), hashlib.sha256).hexdigest())
    assert json.loads(replies[0]["body"]) == {"id": "key", "protocol": protocol.PROTOCOL_VERSION,
                                              "isolation": protocol.ISOLATION}
    assert json.loads(replies[1]["body"]) == {"id": "r7", "status": "passed"}


# ---------------------------------------------------------------- the package as shipped
def test_every_image_ships_and_hashes_the_whole_package():
    from humaneval_x.languages import LANGUAGES
    from humaneval_x.sandbox.images import context_files
    package = sorted(p.relative_to(ROOT / "runners").as_posix() for p in (ROOT / "runners" / "hxrunner").rglob("*.py")
                     if "__pycache__" not in p.parts)
    assert "hxrunner/langs/go.py" in package and "hxrunner/verdict.py" in package
    for lang in LANGUAGES:
        files = context_files(lang)
        assert set(package) | {"runner.py"} <= set(files), lang
        dockerfile = files["Dockerfile"].decode()
        assert "COPY runner.py /opt/hx/runner.py\nCOPY hxrunner /opt/hx/hxrunner\n" in dockerfile, lang
        assert "--uid %d " % policy.BUILD_UID in dockerfile, lang  # the build uid the policy names


def test_the_image_tag_changes_with_any_file_of_the_package(tmp_path, monkeypatch):
    import shutil
    from humaneval_x.sandbox import images
    copy = tmp_path / "runners"
    shutil.copytree(ROOT / "runners", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(images, "RUNNERS_DIR", copy)
    before = images.image_tag("cpp")
    (copy / "hxrunner" / "__pycache__").mkdir(exist_ok=True)
    (copy / "hxrunner" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"host byte code")
    assert images.image_tag("cpp") == before  # byte code a host-side import leaves is not the recipe
    with open(copy / "hxrunner" / "langs" / "java.py", "a") as f:
        f.write("\n")
    assert images.image_tag("cpp") != before
