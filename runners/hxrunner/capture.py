"""Captured output: memfd files (no path, nothing to replace by a symlink), read capped."""
import os


def capture_files():
    return os.memfd_create("hx-stdout"), os.memfd_create("hx-stderr")


def read_capped(fd, cap, keep=None):
    """(head+tail text limited to about `cap` characters, whole bytes) of a capture file. With `keep`,
    the bytes are only the first `keep` of them (a compiler's flood is never read whole): the file's
    size tells whether that was all."""
    size = os.fstat(fd).st_size

    def pread(offset, n):
        chunks = []
        while n > 0:
            chunk = os.pread(fd, min(n, 1 << 20), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset, n = offset + len(chunk), n - len(chunk)
        return b"".join(chunks)

    half = cap // 2
    if size <= cap:
        data = pread(0, size)
        return data.decode("utf-8", "replace"), data if keep is None else data[:keep]
    head, tail = pread(0, half), pread(size - half, half)
    text = (head.decode("utf-8", "replace") + "\n...[%d bytes cut]...\n" % (size - 2 * half)
            + tail.decode("utf-8", "replace"))
    return text, pread(0, size if keep is None else min(size, keep))


def stage_result(returncode, timed_out, wall_s, cpu_s, out_fd, err_fd, cap, keep=None, **extra):
    """What a stage reports: its outcome and captured output (capped text; whole bytes, or with `keep`
    their first `keep` and the sizes in _std*_size, in the private _std* fields, which only a batch's
    build asks for; the runner pops the bytes before replying). Closes both files."""
    stdout, out_bytes = read_capped(out_fd, cap, keep)
    stderr, err_bytes = read_capped(err_fd, cap, keep)
    if keep is not None:
        extra.update(_stdout_size=os.fstat(out_fd).st_size, _stderr_size=os.fstat(err_fd).st_size)
    os.close(out_fd)
    os.close(err_fd)
    return dict({"returncode": returncode, "timed_out": timed_out, "wall_s": round(wall_s, 4),
                 "cpu_s": None if cpu_s is None else round(cpu_s, 4), "stdout": stdout, "stderr": stderr,
                 "_stdout_bytes": out_bytes, "_stderr_bytes": err_bytes}, **extra)
