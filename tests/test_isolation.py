"""Hostile programs against the boundary around each program (issue 12), with real Docker.

Per language, ONE worker runs every attack interleaved with canonical and wrong programs of
the same task (X/0), in one Executor run. Each attack is wrong on its honest path: it passes
only if it found the sentinel somewhere, forged a reply, or spoiled a verdict. Asserted: no
attacker passes, every canonical neighbour passes, every wrong neighbour fails, nothing is a
harness_error. The attacks are the issue's eight (as they apply to today's design) and those
found since; README "The boundary around each program" says what each one meets.

Calling the harness's own done code early is here too (Python's ``_hx_done`` and JS's ``__hxDone``
print only when called by the program's last line; C++'s buffer is declared after the completion).
Not here (the documented limit): a program that reaches deeper into its OWN process, e.g. a
/proc/self/mem scan, frame or stack introspection, or a C++ constructor that steals stdin and prints
it before main.

Run by hand, ``python tests/test_isolation.py LANG OUT.jsonl`` writes the same interleaved
samples as a CodeGeeX samples file for ``humaneval-x evaluate-samples --clean=False``.
"""
import json
import sys

import pytest

pytestmark = pytest.mark.docker

PAT = r"HX_SUITE_DONE_[0-9a-f]{32}"

# ---------------------------------------------------------------- Python (Python/0, a function body)
PY_EMIT = ("    import os, re\n"
           "    def emit(blob):\n"
           "        m = re.search(rb'" + PAT + "', blob)\n"
           "        if m:\n"
           "            os.write(1, b'\\n' + m.group() + b'\\n')\n"
           "            os._exit(0)\n")
PY = {
    # 1: write forged replies to the runner's stdout / every fd in reach
    "forge-runner-fd": PY_EMIT + (
        "    line = b'{\"body\": \"{\\\\\"id\\\\\": \\\\\"x\\\\\", \\\\\"status\\\\\": \\\\\"passed\\\\\"}\", \"mac\": \"00\"}\\n'\n"
        "    for p in os.listdir('/proc'):\n"
        "        if p.isdigit() and int(p) != os.getpid():\n"
        "            for fd in ('0', '1', '2', '3', '4', '5'):\n"
        "                try:\n"
        "                    f = os.open('/proc/%s/fd/%s' % (p, fd), os.O_WRONLY)\n"
        "                    os.write(f, line * 3)\n"
        "                except OSError:\n"
        "                    pass\n"
        "    os.write(1, line * 3)\n    os.write(2, line * 3)\n    return True\n"),
    # 1: the memory of every other process in sight (the namespace's init, the runner, the zygote)
    "read-other-memory": PY_EMIT + (
        "    for p in os.listdir('/proc'):\n"
        "        if not p.isdigit() or int(p) == os.getpid():\n"
        "            continue\n"
        "        for f in ('environ', 'cmdline', 'stat'):\n"
        "            try:\n                emit(open('/proc/%s/%s' % (p, f), 'rb').read())\n"
        "            except OSError:\n                pass\n"
        "        try:\n"
        "            mem = open('/proc/%s/mem' % p, 'rb')\n"
        "            for line in open('/proc/%s/maps' % p):\n"
        "                a, b = (int(x, 16) for x in line.split()[0].split('-'))\n"
        "                if 'r' in line.split()[1]:\n"
        "                    try:\n                        mem.seek(a); emit(mem.read(b - a))\n"
        "                    except OSError:\n                        pass\n"
        "        except OSError:\n            pass\n"
        "    return True\n"),
    # 2: files: its folder, scratch space, anything under /tmp, /dev/shm, /run, its own environ and argv
    "read-files": PY_EMIT + (
        "    for top in ('/tmp', '/dev/shm', '/dev/mqueue', '/run', '/var/tmp', '/home', '/root', '/opt/hx'):\n"
        "        for d, _, fs in os.walk(top):\n"
        "            for f in fs:\n"
        "                try:\n                    emit(open(os.path.join(d, f), 'rb').read(1 << 20))\n"
        "                except OSError:\n                    pass\n"
        "    emit(open('/proc/self/environ', 'rb').read())\n    emit(open('/proc/self/cmdline', 'rb').read())\n"
        "    return True\n"),
    # inherited fds and stdin read again (the harness already took the sentinel line)
    "read-fds": PY_EMIT + (
        "    for fd in range(0, 1024):\n"
        "        try:\n            os.lseek(fd, 0, 0)\n        except OSError:\n            pass\n"
        "        try:\n            emit(os.read(fd, 1 << 16))\n        except OSError:\n            pass\n"
        "    return True\n"),
    # a user namespace, then remount /proc and /tmp to look underneath
    "userns-remount": PY_EMIT + (
        "    import subprocess\n"
        "    for cmd in ('unshare -Urm sh -c \"umount -l /proc; umount -l /tmp; cat /proc/1/environ; "
        "grep -ra HX_SUITE_DONE_ /tmp /proc/1/ 2>/dev/null\"',\n"
        "                'unshare -Urmpf --mount-proc sh -c \"cat /proc/*/environ\"', 'unshare -Urn true'):\n"
        "        try:\n"
        "            r = subprocess.run(cmd, shell=True, capture_output=True, timeout=5)\n"
        "            emit(r.stdout + r.stderr)\n"
        "            if r.returncode == 0 and cmd == 'unshare -Urn true':\n"
        "                os.write(2, b'HX_USERNS_ALLOWED\\n')\n"
        "        except Exception:\n            pass\n"
        "    return True\n"),
    # ptrace and signals to every other process it can see
    "ptrace-and-signal": PY_EMIT + (
        "    import ctypes, signal\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    for p in os.listdir('/proc'):\n"
        "        if p.isdigit() and int(p) != os.getpid():\n"
        "            libc.ptrace(16, int(p), 0, 0)\n"
        "            for s in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):\n"
        "                try:\n                    os.kill(int(p), s)\n"
        "                except OSError:\n                    pass\n"
        "    return True\n"),
    # 5: symlinks where the runner's files would be; scratch and site paths seeded for the next program
    "plant-files": (
        "    import os, sys\n"
        "    evil = 'import os\\nos.write(1, b\"planted\\\\n\")\\nos._exit(0)\\n'\n"
        "    for d in ['/tmp', '/dev/shm', os.path.expanduser('~/.local/lib/python3.11/site-packages'), '/tmp/work']"
        " + sys.path:\n"
        "        try:\n"
        "            os.makedirs(d, exist_ok=True)\n"
        "            for n in ('sitecustomize.py', 'usercustomize.py', 'main.py', 'numpy.py'):\n"
        "                open(os.path.join(d, n), 'w').write(evil)\n"
        "        except OSError:\n"
        "            pass\n"
        "    for n in ('/tmp/hx-stdout', '/tmp/hx-stderr', '/tmp/.hx-ready', '/tmp/hx-stage', '/tmp/hx-server.log'):\n"
        "        try:\n            os.symlink('/dev/null', n)\n        except OSError:\n            pass\n"
        "    return True\n"),
    # 7: kills all it can, its parent twice: its own runtime_error, never a harness_error
    "kill-everything": ("    import os, signal\n"
                        "    for pid in (os.getppid(), os.getppid(), 1, -1):\n"
                        "        try:\n            os.kill(pid, signal.SIGKILL)\n"
                        "        except OSError:\n            pass\n"),
    # processes left running (a daemon that waits for the next program's turn and writes into it)
    "leave-daemon": (
        "    import os, time\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            for _ in range(600):\n"
        "                time.sleep(0.05)\n"
        "                for p in os.listdir('/proc'):\n"
        "                    try:\n"
        "                        open('/proc/%s/fd/1' % p, 'w').write('\\nHX_SUITE_DONE_' + '0' * 32 + '\\n')\n"
        "                    except OSError:\n"
        "                        pass\n"
        "        os._exit(0)\n"
        "    return True\n"),
    # /tmp and /dev/shm filled, inodes used up, memory taken through memfds: the next program is fine
    "fill-scratch": (
        "    import os\n"
        "    for d in ('/tmp', '/dev/shm', '/tmp/work'):\n"
        "        try:\n"
        "            with open(d + '/fill', 'wb') as f:\n"
        "                while True:\n"
        "                    f.write(b'x' * (1 << 20))\n"
        "        except OSError:\n"
        "            pass\n"
        "        for i in range(30000):\n"
        "            try:\n                open('%s/i%d' % (d, i), 'w').close()\n"
        "            except OSError:\n                break\n"
        "    return True\n"),
    "memfd-bomb": (
        "    import os\n    fds = []\n"
        "    while True:\n"
        "        fd = os.memfd_create('x')\n"
        "        try:\n            os.write(fd, b'x' * (4 << 20))\n"
        "        except OSError:\n            pass\n"
        "        fds.append(fd)\n"),
    "fork-spinners": (
        "    import os\n"
        "    for _ in range(40):\n"
        "        try:\n            if os.fork() == 0:\n                while True: pass\n"
        "        except OSError:\n            break\n"
        "    while True: pass\n"),
    "exit-256": "    raise SystemExit(256)\n",
    # the harness's own done call, made early from the completion (inside the function, and at module level)
    "call-done-early": "    _hx_done()\n    import os\n    os._exit(0)\n",
    "call-done-module-level": "    return True\n_hx_done()\nimport os\nos._exit(0)\n",
}
PY_CANON_MARK = None  # the canonical solution comes from the dataset
PY_WRONG = "    return True\n"

# ---------------------------------------------------------------- C++ (CPP/0)
CPP_SCAN = (
    "    return true;\n}\n#include <unistd.h>\n"
    "static int hx_scan = []() {\n"
    "    FILE *p = popen(\"grep -raoh 'HX_SUITE_DONE_[0-9a-f]\\\\{32\\\\}' /proc/[0-9]*/environ /proc/[0-9]*/cmdline"
    " /tmp /dev/shm /opt/hx 2>/dev/null | head -1\", \"r\");\n"
    "    char buf[128] = {0};\n"
    "    if (p && fgets(buf, sizeof buf, p) && strlen(buf) > 20) { printf(\"\\n%s\\n\", buf); fflush(stdout); _exit(0); }\n"
    "    return 0;\n}();\n")
CPP = {
    "system-scan": CPP_SCAN,
    # 1 through system(): forged lines into the runner's stdout
    "forge-runner-fd": ("    system(\"for f in /proc/[0-9]*/fd/1 /proc/[0-9]*/fd/2; do echo '{\\\"status\\\": \\\"passed\\\"}' "
                        "> $f; done 2>/dev/null\");\n    return true;\n}\n"),
    "fork-bomb": ("    return false;\n}\n#include <unistd.h>\n"
                  "static int hx_bomb = []() { for (int i = 0; i < 100000; i++) fork(); return 0; }();\n"),
    "kill-parent": ("    return true;\n}\n#include <signal.h>\n#include <unistd.h>\n"
                    "static int hx_kill = []() { kill(getppid(), 9); kill(getppid(), 9); kill(1, 9); kill(-1, 9);"
                    " return 0; }();\n"),
    "exit-256": "    exit(256);\n}\n",
    # the harness's sentinel buffer, named by the completion (it is declared after it: a compile error)
    "print-sentinel-buffer": "    fputs(hx_sentinel_, stdout);\n    exit(0);\n}\n",
    # stdin read before the harness's reader (a global constructor): the program ends at once
    "steal-stdin": ("    return true;\n}\nstruct HxSteal { HxSteal() { char b[128]; if (fgets(b, sizeof b, stdin)) "
                    "{ printf(\"\\n%s\", b); } } } hx_steal_;\n"),
    # what the compiler (the build uid) can read at compile time, embedded in the binary
    "incbin-compile-time": ("    return true;\n}\n"
                            "asm(\".section .rodata\\n.incbin \\\"/proc/self/environ\\\"\\n.previous\");\n"),
}
CPP_WRONG = "    return true;\n}\n"

# ---------------------------------------------------------------- Java (Java/0, a method body; closes the class)
JAVA = {
    "process-scan": (
        "        try {\n"
        "            Process p = new ProcessBuilder(\"sh\", \"-c\", \"grep -raoh 'HX_SUITE_DONE_[0-9a-f]*' "
        "/proc/[0-9]*/environ /proc/[0-9]*/cmdline /tmp /dev/shm 2>/dev/null | head -1\").start();\n"
        "            String s = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();\n"
        "            if (s != null && s.length() > 20) { System.out.println(\"\\n\" + s); System.out.flush(); Runtime.getRuntime().halt(0); }\n"
        "        } catch (Exception e) { }\n"
        "        return true;\n    }\n}\n"),
    # 4: background work that outlives its program
    "left-over-threads": (
        "        java.util.stream.IntStream.range(0, 64).parallel().forEach(i -> { });\n"
        "        Thread t = new Thread(() -> { while (true) { try { Thread.sleep(1); System.out.close(); } catch (Exception e) { } } });\n"
        "        t.setDaemon(true); t.start();\n"
        "        return true;\n    }\n}\n"),
    # the warm compiler dies on this source (StackOverflowError inside javac): a compile_error, as with plain javac
    "crash-javac": "        return " + "(" * 6000 + "true" + ")" * 6000 + ";\n    }\n}\n",
    "exit-256": "        System.exit(256);\n        return true;\n    }\n}\n",
    "stdin-again": (
        "        try {\n"
        "            byte[] b = new java.io.FileInputStream(java.io.FileDescriptor.in).readAllBytes();\n"
        "            String s = new String(b).trim();\n"
        "            if (s.length() > 20) { System.out.println(\"\\n\" + s); Runtime.getRuntime().halt(0); }\n"
        "        } catch (Exception e) { }\n"
        "        return true;\n    }\n}\n"),
}
JAVA_WRONG = "        return true;\n    }\n}\n"

# ---------------------------------------------------------------- JavaScript (JavaScript/0, an arrow body)
JS = {
    "child-scan": (
        "  const cp = require('child_process');\n"
        "  let s = '';\n"
        "  try { s = cp.execSync(\"grep -raoh 'HX_SUITE_DONE_[0-9a-f]*' /proc/[0-9]*/environ /proc/[0-9]*/cmdline "
        "/tmp /dev/shm 2>/dev/null | head -1\").toString().trim(); } catch (e) { }\n"
        "  if (s.length > 20) { process.stdout.write('\\n' + s + '\\n'); process.exit(0); }\n"
        "  return true;\n}\n"),
    # 3: out of the (former) vm context through a stack overflow in the output function
    "realm-escape": (
        "  try { const f = () => { f(); }; f(); } catch (e) {\n"
        "    try { const proc = e.constructor.constructor('return process')();\n"
        "      const fs = proc.mainModule ? proc.mainModule.require('fs') : require('fs');\n"
        "      fs.readFileSync = () => '\\nHX_SUITE_DONE_' + '0'.repeat(32) + '\\n'; } catch (e2) { }\n"
        "  }\n"
        "  return true;\n}\n"),
    "plant-modules": (
        "  const fs = require('fs');\n"
        "  for (const d of ['/tmp/node_modules', '/tmp/work/node_modules', (process.env.HOME || '/tmp') + '/.node_modules',"
        " '/opt/hx/node_modules']) {\n"
        "    try { fs.mkdirSync(d + '/js-md5', {recursive: true});\n"
        "      fs.writeFileSync(d + '/js-md5/index.js', 'process.exit(0)'); } catch (e) { }\n"
        "  }\n"
        "  return true;\n}\n"),
    "exit-256": "  process.exit(256);\n}\n",
    # the harness's own done call, early: inside the function, at top level, with builtins patched,
    # and from eval'd code claiming the program's file and last line
    "call-done-early": "  __hxDone();\n  process.exit(0);\n}\n",
    "call-done-top-level": "  return true;\n}\n__hxDone(); process.exit(0);\n",
    "call-done-patched": ("  return true;\n}\nRegExp.prototype.test = () => true; String.prototype.split = () => [];\n"
                          "try { Error.prepareStackTrace = () => 'x'; } catch (e) { }\n__hxDone(); process.exit(0);\n"),
    "call-done-eval": ("  return true;\n}\nconst hxN = require('fs').readFileSync('/tmp/work/main.js', 'utf8').split('\\n').length - 1;\n"
                       "eval('\\n'.repeat(hxN - 1) + '__hxDone()\\n//# sourceURL=/tmp/work/main.js'); process.exit(0);\n"),
}
JS_WRONG = "  return true;\n}\n"

# ---------------------------------------------------------------- Go (Go/0, a function body)
GO = {
    "read-proc": (
        "    for _, pat := range []string{\"/proc/1/environ\", \"/proc/1/cmdline\", \"/proc/1/mem\", \"/tmp/main_test.go\","
        " \"/tmp/work/main_test.go\", \"/tmp/gocache\"} {\n"
        "        b, _ := os.ReadFile(pat)\n"
        "        if i := strings.Index(string(b), \"HX_SUITE_DONE_\"); i >= 0 && len(b) >= i+46 {\n"
        "            os.Stdout.WriteString(\"\\n\" + string(b[i:i+46]) + \"\\n\")\n"
        "            os.Exit(0)\n"
        "        }\n"
        "    }\n"
        "    return true\n}\n"),
    "exit-256": "    os.Exit(256)\n    return true\n}\n",
    # the harness's own package called by the program, before its test ran
    "call-sentinel-package": "    hxsentinel.Print()\n    os.Exit(0)\n    return true\n}\n",
    # no test runs at all: m.Run() returns 0, the harness would print the sentinel
    "skip-tests-via-args": "    return true\n}\n\nfunc init() {\n    os.Args = []string{os.Args[0], \"-test.run=^NoSuchTest$\"}\n}\n",
    # 6: in a batch, rename over the shared binary / read neighbours' sources
    "batch-neighbours": (
        "    entries, _ := os.ReadDir(\"..\")\n"
        "    for _, e := range entries {\n"
        "        os.Rename(\"../\"+e.Name(), \"../\"+e.Name()+\".x\")\n"
        "    }\n"
        "    os.WriteFile(\"batch.test\", []byte(\"#!/bin/sh\\necho\\n\"), 0755)\n"
        "    return true\n}\n"),
}
GO["batch-forged-vet-report"] = (  # a vet message quoting a raw string: go's own "# pkg" headers, forged
    "    _ = fmt.Sprintf(\"%d\", `\n" + "".join("# hxb/hxp%d\nhxb/hxp%d/p.go:1:1: forged\n" % (k, k) for k in range(6))
    + "`)\n    return true\n}\n")
# a vet header with a non-ASCII digit ("²".isdigit() is true): it was one harness_error for the whole batch
GO["batch-forged-vet-unicode"] = "    _ = fmt.Sprintf(\"%d\", `\n# hxb/hxp\u00b2\nhxb/hxp\u00b2/p.go:1:1: x\n`)\n    return true\n}\n"
# package initialisation hidden from a text check by comments (Go reads a comment as a space): in a shared
# batch binary it would run in every member's process, and end canonical neighbours before their tests
GO["hidden-init-var"] = "    return true\n}\n\nvar/**/hxKill = func() int { os.Exit(1); return 0 }()\n"
GO["hidden-init-func"] = "    return true\n}\n\nfunc/**/init() { os.Exit(0) }\n"
# a batch member importing a neighbour's package (canonical-first is member 0 of the batch) to call its
# correct function: batch packages live under a path drawn at random per batch, which no program can name
GO["import-neighbour"] = "    return hxp0.HasCloseElements(numbers, threshold)\n}\n\nimport \"hxb/hxp0\"\n"
GO_WRONG = "    return true\n}\n"

# ---------------------------------------------------------------- Rust (Rust/0, a function body)
RUST_LIBC = 'extern "C" { fn kill(pid: i32, sig: i32) -> i32; fn getppid() -> i32; fn fork() -> i32; }\n'
RUST = {
    "read-proc": (
        "    for p in [\"/proc/1/environ\", \"/proc/1/cmdline\", \"/tmp/main.rs\", \"/tmp/work/main.rs\", \"../main.rs\"] {\n"
        "        if let Ok(b) = std::fs::read(p) {\n"
        "            let s = String::from_utf8_lossy(&b).to_string();\n"
        "            if let Some(i) = s.find(\"HX_SUITE_DONE_\") { println!(\"\\n{}\", &s[i..i + 46]); std::process::exit(0); }\n"
        "        }\n    }\n    true\n}\n"),
    # 1 through std::process: forged lines into the runner's stdout
    "forge-runner-fd": (
        "    let _ = std::process::Command::new(\"sh\").arg(\"-c\").arg(\"for f in /proc/[0-9]*/fd/1 /proc/[0-9]*/fd/2; "
        "do echo '{\\\"status\\\": \\\"passed\\\"}' > $f; done 2>/dev/null\").status();\n    true\n}\n"),
    "unsafe-write": "    unsafe { *(16 as *mut u64) = 1; }\n    true\n}\n",
    "kill-everything": "    unsafe { kill(getppid(), 9); kill(getppid(), 9); kill(1, 9); kill(-1, 9); }\n    true\n}\n" + RUST_LIBC,
    # to the 256-process limit in 8 rounds, then failing forks (100000 rounds in all 256 processes: minutes
    # of CPU, which a loaded machine does not give within the host's deadline: harness_error, not judged)
    "fork-bomb": "    unsafe { for _ in 0..1000 { fork(); } }\n    false\n}\n" + RUST_LIBC,
    "left-over-threads": ("    for _ in 0..8 { std::thread::spawn(|| loop { let _ = std::fs::write(\"/tmp/hx_planted\", b\"x\"); "
                          "std::thread::sleep(std::time::Duration::from_millis(5)); }); }\n    true\n}\n"),
    "plant-files": ("    for d in [\"/tmp\", \".\", \"..\", \"/dev/shm\", \"/opt/hx/rust/lib\"] {\n"
                    "        let _ = std::fs::write(format!(\"{}/librand.rlib\", d), b\"x\");\n"
                    "        let _ = std::fs::write(format!(\"{}/main\", d), b\"#!/bin/sh\\necho\\n\");\n    }\n    true\n}\n"),
    "exit-256": "    std::process::exit(256);\n}\n",
    # stdin read before the harness's main (a function in .init_array): the harness reads nothing, exits 86
    "steal-stdin": ("    true\n}\n#[used]\n#[link_section = \".init_array\"]\nstatic HX_STEAL: extern \"C\" fn() = hx_steal;\n"
                    "extern \"C\" fn hx_steal() { let mut s = String::new(); let _ = std::io::stdin().read_line(&mut s); "
                    "print!(\"\\n{}\", s); }\n"),
    # the harness's main called by the program: stdin is at its end by then, so it exits 86
    "call-harness-main": "    main();\n    std::process::exit(0);\n}\n",
    # a panic hook that hides the failed assertion and exits 0: no sentinel
    "silent-hook": ("    std::panic::set_hook(Box::new(|_| std::process::exit(0)));\n    true\n}\n"),
    # what the compiler (the build uid) can read at compile time, embedded in the binary
    "include-compile-time": "    let _ = include_bytes!(\"/proc/self/environ\");\n    true\n}\n",
    # in a batch, rename over the shared binary / read neighbours' sources
    "batch-neighbours": ("    if let Ok(rd) = std::fs::read_dir(\"..\") { for e in rd.flatten() { let p = e.path(); "
                         "let _ = std::fs::rename(&p, p.with_extension(\"x\")); } }\n"
                         "    let _ = std::fs::write(\"batch\", b\"#!/bin/sh\\necho\\n\");\n    true\n}\n"),
}
RUST_WRONG = "    true\n}\n"

ATTACKS = {"Python": PY, "CPP": CPP, "Java": JAVA, "JavaScript": JS, "Go": GO, "Rust": RUST}
WRONG = {"Python": PY_WRONG, "CPP": CPP_WRONG, "Java": JAVA_WRONG, "JavaScript": JS_WRONG, "Go": GO_WRONG,
         "Rust": RUST_WRONG}


# attacks aimed at the NEXT program (planted files, processes, patched state): a wrong neighbour
# follows them too, which must not pass; every attack is followed by a canonical neighbour
AIMED_AT_NEXT = {"forge-runner-fd", "plant-files", "leave-daemon", "fill-scratch", "memfd-bomb", "realm-escape",
                 "plant-modules", "left-over-threads", "batch-neighbours", "kill-everything", "fork-bomb",
                 "hidden-init-var", "hidden-init-func", "batch-forged-vet-unicode"}


def interleaved(lang, canonical):
    """[(name, generation)]: canonical, then each attack followed by its neighbours (each made unique
    by a trailing comment so none is deduplicated away)."""
    comment = "#" if lang == "Python" else "//"
    rows = [("canonical-first", canonical)]
    for name, attack in ATTACKS[lang].items():
        rows.append(("attack:" + name, attack))
        if name in AIMED_AT_NEXT:
            rows.append(("wrong-after:" + name, WRONG[lang] + "%s %s\n" % (comment, name)))
        rows.append(("canonical-after:" + name, canonical + "\n%s %s\n" % (comment, name)))
    rows.append(("wrong-last", WRONG[lang] + "%s last\n" % comment))
    return rows


def check_results(rows, results):
    bad = []
    for i, (name, _) in enumerate(rows):
        r = results[i]
        if r["status"] == "harness_error":
            bad.append((name, r["status"], r.get("detail")))
        elif name.startswith("canonical") and r["status"] != "passed":
            bad.append((name, r["status"], r.get("detail")))
        elif not name.startswith("canonical") and r["status"] == "passed":
            bad.append((name, r["status"], r.get("detail")))
    return bad


@pytest.mark.parametrize("lang", sorted(ATTACKS))
def test_attacks_do_not_pass_and_neighbours_keep_their_verdicts(lang, problems, data_dir, docker_client):
    from humaneval_x.dataset import load_problems
    from humaneval_x.execute import Executor, Timeouts, docker_factory, make_job
    from humaneval_x.samples import Sample
    problem = (load_problems(["rust"], data_dir=data_dir) if lang == "Rust" else problems)[lang + "/0"]
    rows = interleaved(lang, problem.canonical_solution)
    jobs = [make_job(Sample(problem.task_id, i, gen), problem, clean=False) for i, (_, gen) in enumerate(rows)]
    results = {}
    ex = Executor(docker_factory(client=docker_client), workers=1,
                  timeouts=Timeouts(run_cpu=3, run_timeout=8))
    ex.run(jobs, lambda r: results.__setitem__(r["sample_index"], r))
    bad = check_results(rows, results)
    assert not bad, bad
    if lang == "Python":  # the program's sandbox has no user namespaces (seccomp), so nothing to remount
        idx = [n for n, _ in rows].index("attack:userns-remount")
        assert "HX_USERNS_ALLOWED" not in (results[idx].get("run") or {}).get("stderr", ""), results[idx]


if __name__ == "__main__":
    import gzip
    lang, out = sys.argv[1], sys.argv[2]
    prefix = {"Python": "python", "CPP": "cpp", "Java": "java", "JavaScript": "js", "Go": "go", "Rust": "rust"}[lang]
    with gzip.open("/work/shared/humaneval-x/humaneval_%s.jsonl.gz" % prefix, "rt") as f:
        problem = next(json.loads(line) for line in f if json.loads(line)["task_id"] == lang + "/0")
    rows = interleaved(lang, problem["canonical_solution"])
    with open(out, "w") as f:
        for name, gen in rows:
            f.write(json.dumps({"task_id": lang + "/0", "generation": gen}) + "\n")
    with open(out + ".names", "w") as f:
        json.dump([n for n, _ in rows], f)
