"""The contract every Sandbox implementation passes (real Docker engine)."""

import pytest

from humaneval_x.sandbox.base import SandboxDied

pytestmark = pytest.mark.docker

PY = {"compile": None, "run": ["python3", "main.py"], "compile_timeout": 30, "run_timeout": 6, "run_cpu": 3,
      "failure_markers": ["AssertionError"], "crash_markers": []}
# the sentinel comes on stdin (drawn per execution by the runner); DONE prints it
READ = "import os as _o\n_s = _o.read(0, 256).decode().strip()\n"


def req(code, **kw):
    code = READ + code.replace("print('SENTINEL-OK')", "print('\\n' + _s)")
    return dict(PY, id=kw.pop("id", "x"), files={"main.py": code}, **kw)


def docker_impl(client):
    from humaneval_x.sandbox.docker_sandbox import DockerSandbox
    from humaneval_x.sandbox.images import image_tag
    return DockerSandbox("python", image_tag("python"), client=client)


IMPLEMENTATIONS = {"docker": docker_impl}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def sandbox(request, docker_client):
    box = IMPLEMENTATIONS[request.param](docker_client)
    box.start()
    yield box
    box.stop()


@pytest.mark.parametrize("code,status", [
    ("print('SENTINEL-OK')", "passed"),
    ("assert 1 == 2\nprint('SENTINEL-OK')", "failed"),
    ("import sys\nsys.exit(0)\nprint('SENTINEL-OK')", "failed"),        # early exit never passes
    ("raise KeyError('x')", "runtime_error"),
    ("while True:\n    pass", "timeout"),
    ("import time\ntime.sleep(60)", "timeout"),                            # blocked, not burning CPU
])
def test_verdicts(sandbox, code, status):
    out = sandbox.execute(req(code, id="v"), timeout=60)
    assert out["id"] == "v"
    assert out["status"] == status, out


def test_a_program_that_ignores_sigxcpu_gets_no_more_cpu_than_its_limit(sandbox):
    # Go's runtime ignores SIGXCPU, and any program may: the limit itself must stop it (soft == hard)
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass"
    out = sandbox.execute(req(code, run_cpu=2, run_timeout=10), timeout=60)
    assert out["status"] == "timeout", out
    assert out["run"]["cpu_s"] < 2.5, out


def test_many_requests_in_one_sandbox_do_not_share_files(sandbox):
    first = sandbox.execute(req("open('leftover.txt', 'w').write('x')\nprint('SENTINEL-OK')"), 30)
    assert first["status"] == "passed"
    second = sandbox.execute(req("import os\nassert not os.path.exists('leftover.txt')\nprint('SENTINEL-OK')"), 30)
    assert second["status"] == "passed", second


def test_background_processes_do_not_outlive_their_program(sandbox):
    code = ("import subprocess, sys\n"
            "subprocess.Popen(['sh', '-c', 'setsid sleep 300 &'])\n"
            "print('SENTINEL-OK')")
    assert sandbox.execute(req(code), 30)["status"] == "passed"
    check = "import os\nprocs=[p for p in os.listdir('/proc') if p.isdigit() and 'sleep 300' in open(f'/proc/{p}/cmdline').read().replace(chr(0),' ')]\nassert not procs, procs\nprint('SENTINEL-OK')"
    assert sandbox.execute(req(check), 30)["status"] == "passed"


def test_output_is_captured_and_capped(sandbox):
    out = sandbox.execute(req("print('hello ' * 5000)\nprint('SENTINEL-OK')", output_cap=1000), 30)
    assert out["status"] == "passed"
    assert out["run"]["stdout"].startswith("hello") and len(out["run"]["stdout"]) < 1200


def test_no_network(sandbox):
    code = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
            "except OSError:\n    print('SENTINEL-OK')")
    assert sandbox.execute(req(code), 30)["status"] == "passed"


def test_runs_as_non_root_on_read_only_root(sandbox):
    code = ("import os\nassert os.getuid() != 0\n"
            "try:\n    open('/etc/hx-test', 'w')\n    raise SystemExit(3)\nexcept OSError:\n    pass\n"
            "print('SENTINEL-OK')")
    assert sandbox.execute(req(code), 30)["status"] == "passed"


def test_stopped_sandbox_raises_sandbox_died(sandbox):
    sandbox.stop()
    sandbox.stop()  # idempotent
    with pytest.raises(SandboxDied):
        sandbox.execute(req("print(1)"), 10)


def test_a_program_cannot_kill_the_sandbox(sandbox):
    """kill(-1) reaches only the program's own processes: it dies, the sandbox answers on."""
    out = sandbox.execute(req("import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('SENTINEL-OK')"), 30)
    assert out["status"] == "runtime_error", out
    assert sandbox.execute(req("print('SENTINEL-OK')"), 30)["status"] == "passed"
    sandbox.check(30)


def test_the_same_sandbox_runs_in_fast_mode(sandbox):
    """Python programs forked from the zygote get the same verdicts."""
    for code, status in [("print('SENTINEL-OK')", "passed"), ("assert 1 == 2\nprint('SENTINEL-OK')", "failed"),
                         ("import sys\nsys.exit(0)", "failed"), ("while True:\n    pass", "timeout")]:
        assert sandbox.execute(req(code, python=True), 30)["status"] == status, code


def test_the_sentinel_is_in_no_file_argv_or_environment(sandbox):
    code = ("import os, glob\n"
            "seen = [open(f, 'rb').read() for f in glob.glob('/tmp/**', recursive=True) if os.path.isfile(f)]\n"
            "seen += [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit()]\n"
            "seen += [open(f'/proc/{p}/environ', 'rb').read() for p in os.listdir('/proc') if p.isdigit()\n"
            "         and os.access(f'/proc/{p}/environ', os.R_OK)]\n"
            "assert not any(_s.encode() in blob for blob in seen)\n"
            "assert len(_s) > 30\n"
            "print('SENTINEL-OK')")
    assert sandbox.execute(req(code), 30)["status"] == "passed"


def test_a_program_gets_no_namespaces_mounts_or_capabilities(sandbox):
    """The container keeps SYS_ADMIN for the runner; a program's own seccomp filter takes namespaces
    (a user namespace above all) and mount calls away again. Threads and subprocesses still work."""
    code = ("import ctypes, os, subprocess, threading\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "for flags in (0x10000000, 0x10020000, 0x40000000, 0x20000):\n"  # NEWUSER, +NEWNS, NEWNET, NEWNS
            "    assert libc.unshare(flags) == -1 and ctypes.get_errno() == 1, flags\n"
            "assert libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == -1\n"
            "status = open('/proc/self/status').read()\n"
            "assert 'CapEff:\\t0000000000000000' in status and 'NoNewPrivs:\\t1' in status, status\n"
            "assert int(status.split('Seccomp_filters:')[1].split()[0]) >= 2\n"
            "assert ' /proc/sys ro,' in open('/proc/self/mountinfo').read().replace('\\n', ' \\n')\n"
            "assert subprocess.run(['unshare', '-Ur', 'true']).returncode != 0\n"
            "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
            "assert subprocess.run(['sh', '-c', 'exit 3']).returncode == 3\n"
            "print('SENTINEL-OK')")
    for python in (False, True):
        out = sandbox.execute(req(code, python=python), 30)
        assert out["status"] == "passed", out


def test_files_that_do_not_fit_the_programs_tmp_are_its_own_failure(sandbox):
    """More files than a program's /tmp has inodes (e.g. javac's class files): runtime_error, not
    harness_error; the file list is never a message (the runner could not send one this long)."""
    make = ["python3", "-c", "[open('C%05d.class' % i, 'w').close() for i in range(21000)]"]
    out = sandbox.execute(req("print('SENTINEL-OK')", compile=make), 60)
    assert out["status"] == "runtime_error" and "do not fit" in out["detail"], out
    assert sandbox.execute(req("print('SENTINEL-OK')"), 30)["status"] == "passed"
    sandbox.check(30)


def test_a_compile_server_that_fails_on_a_source_leaves_the_verdict_to_the_plain_compiler(sandbox):
    """The warm compiler (Java's) crashing on a source is no harness_error: the plain compiler decides."""
    crashing = ["sh", "-c", "while read d; do echo 2; done"]  # a server that fails on every source
    out = sandbox.execute(req("print('SENTINEL-OK')", compile_server=crashing, compile=["true"]), 60)
    assert out["status"] == "passed", out
    out = sandbox.execute(req("print('SENTINEL-OK')", compile_server=crashing, compile=["false"]), 60)
    assert out["status"] == "compile_error", out
