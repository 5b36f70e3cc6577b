#!/usr/bin/python3
"""Stops one event loop thread of a running herald ("herald-loop-N") with ptrace, as a handler
stuck in an endless loop would leave it: PTRACE_SEIZE then PTRACE_INTERRUPT stop that thread
only; PTRACE_DETACH lets it go on. For the liveness test (imported) and the dashboard's browser
test (run: `herald_ptrace.py PID LOOP SECONDS` prints `stopped TID`, waits, lets it go, and
exits 0; 3 when this machine forbids ptrace, a kernel or container with Yama ptrace_scope 3 or
a seccomp profile)."""

import ctypes
import os
import sys
import time

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000


def ptrace(request, tid):
    if LIBC.ptrace(request, tid, None, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({request:#x}, {tid}): {os.strerror(err)}")


def loop_thread(pid, index):
    """The thread id of herald-loop-<index> in process pid, or None."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if f.read().strip() == f"herald-loop-{index}":
                return int(tid)
    return None


def stop(tid):
    """Seizes and stops thread tid (OSError when ptrace is refused: nothing is held then)."""
    ptrace(PTRACE_SEIZE, tid)
    try:
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)
    except OSError:
        ptrace(PTRACE_DETACH, tid)
        raise


def resume(tid):
    ptrace(PTRACE_DETACH, tid)


def main():
    pid, index, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    tid = loop_thread(pid, index)
    if tid is None:
        print(f"no thread herald-loop-{index} in process {pid}", file=sys.stderr)
        sys.exit(2)
    try:
        stop(tid)
    except OSError as e:
        print(f"ptrace refused: {e}", file=sys.stderr)
        sys.exit(3)
    print(f"stopped {tid}", flush=True)
    try:
        time.sleep(seconds)
    finally:
        resume(tid)


if __name__ == "__main__":
    main()
