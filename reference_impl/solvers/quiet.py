"""Keeping solver libraries off stdout/stderr: C libraries (HiGHS's banner, SCIP's and
SoPlex's messages) write to file descriptors 1 and 2 directly, past ``sys.stdout``, so
silencing them means pointing those descriptors elsewhere for a while."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def flush_c_stdio() -> None:
    """Flush C's stdio buffers (what a library printed but libc has not written yet)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # pragma: no cover - non-glibc platforms
        pass


def _flush_all() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or replaced stream
            stream.flush()
    flush_c_stdio()


@contextlib.contextmanager
def fds_to(target_out: int, target_err: int) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``target_out`` / ``target_err`` while the block runs
    (Python's and C's buffers are flushed on both edges, so nothing leaks across)."""
    _flush_all()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(target_out, 1)
        os.dup2(target_err, 2)
        yield
    finally:
        _flush_all()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@contextlib.contextmanager
def silenced_output() -> Iterator[None]:
    """Discard everything written to file descriptors 1 and 2 inside the block."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with fds_to(devnull, devnull):
            yield
    finally:
        os.close(devnull)
