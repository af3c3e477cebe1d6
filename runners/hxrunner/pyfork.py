"""Python fork fidelity: a Python program run in a fork of the preloaded interpreter (the zygote)
gets what a fresh `python3 main.py` would give it."""
import os
import signal
import sys


def exec_python_here(path, cwd):
    """In a forked child: run the Python file like `python3 main.py` would, then exit. Never returns.
    What a fresh interpreter would differ in is set as it sets it: a ``__main__`` module of its own,
    ``sys.argv``, the signals Python's start-up changes, stdio's error handlers, the recursion depth
    left to the program, non-daemon threads joined before atexit."""
    import atexit
    import builtins
    import importlib.machinery
    import traceback
    import types
    code = 0
    try:
        os.chdir(cwd)
        sys.argv = [os.path.basename(path)]
        sys.path[0] = cwd
        # what Python's own start-up does to signals (a plain `python3` after the namespace's exec)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.stdin = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        if "random" in sys.modules:  # a fresh interpreter seeds from the OS; so does a forked program
            sys.modules["random"].seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        with open(path, encoding="utf-8") as f:
            source = f.read()
        main = types.ModuleType("__main__")
        main.__dict__.update(__file__=path, __builtins__=builtins, __spec__=None, __package__=None,
                             __loader__=importlib.machinery.SourceFileLoader("__main__", path))
        sys.modules["__main__"] = main
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(sys.getrecursionlimit() + depth)  # the runner's frames are not the program's
        exec(compile(source, path, "exec"), main.__dict__)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(str(exc.code) + "\n")
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        if "threading" in sys.modules:  # as the interpreter's finalisation: non-daemon threads first
            sys.modules["threading"]._shutdown()
    except BaseException:
        traceback.print_exc()
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF)
