"""Hashing the content of many files fast, for directory fingerprints.

On a tree of many small files the cost of a fingerprint is syscalls and interpreter overhead,
not SHA-256 itself, so ``hash_files`` reads each file into a reused buffer and spreads the
files over every available core. Threads scale only while ``hashlib`` runs without the GIL,
which a small file barely lets it do, so large jobs fork worker processes where that is safe
(Linux, and no other thread alive); otherwise, or when ``fork`` fails, a thread pool hashes
them, and a single core or a single file is hashed by the caller. Every route gives the same
digests in the order of the input, and a worker's failure reaches the caller as the same
:class:`InputError` an inline read would raise.

Files are opened non-blocking (``O_READ``) so that a FIFO can never hang the process. How a
failed read is reported (``input_error``, ``path_error``: the user's path and the OS's reason)
lives here, the lowest layer that reads files, so that the walk and the ignore-file reader
word their errors exactly as the workers do.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading

from affidavit.errors import InputError

TYPE_CHECKING = False  # typing costs 3 ms to import; hashing one small file should not pay it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

__all__ = ["BUF_SIZE", "O_READ", "hash_fd", "hash_files", "input_error", "path_error"]

BUF_SIZE = 1 << 20  # read buffer per hashing thread
O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


# --------------------------------------------------------------------------------------------
# errors


def input_error(shown: str, exc: BaseException) -> InputError:
    """``exc``, raised on the path the user wrote as ``shown``, as an InputError."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{shown}: no such file or directory")
    if isinstance(exc, OSError) and exc.strerror:
        return InputError(f"{shown}: {exc.strerror.lower()}")
    return InputError(f"{shown}: {exc}")


def path_error(path: bytes, exc: BaseException) -> InputError:
    """``exc``, raised on ``path`` (bytes, as the walk spells it), as an InputError."""
    return input_error(os.fsdecode(path), exc)


# --------------------------------------------------------------------------------------------
# hashing


def hash_fd(fd: int, buf: bytearray) -> str:
    """Hex SHA-256 of everything left to read from ``fd``, read through ``buf``."""
    view = memoryview(buf)
    h = hashlib.sha256()
    while True:
        n = os.readv(fd, (buf,))
        if not n:
            return h.hexdigest()
        h.update(view[:n])


_local = threading.local()


def _thread_buffer() -> bytearray:
    buf: bytearray | None = getattr(_local, "buf", None)
    if buf is None:
        buf = bytearray(BUF_SIZE)
        _local.buf = buf
    return buf


def _hash_batch(paths: Sequence[bytes]) -> list[bytes]:
    buf = _thread_buffer()
    view = memoryview(buf)
    out: list[bytes] = []
    append = out.append
    readv = os.readv
    sha256 = hashlib.sha256
    for path in paths:
        try:
            fd = os.open(path, O_READ)
            try:
                # Not sha256(data): in CPython 3.11 only update() releases the GIL.
                h = sha256()
                n = readv(fd, (buf,))
                while n:
                    h.update(view[:n])
                    n = readv(fd, (buf,))
            finally:
                os.close(fd)
        except OSError as exc:
            raise path_error(path, exc) from exc
        append(h.hexdigest().encode("ascii"))
    return out


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def hash_files(files: list[bytes]) -> list[bytes]:
    """Content digests of ``files``, in order, using every available core."""
    workers = _workers()
    if workers == 1 or len(files) < 2:
        return _hash_batch(files)
    if len(files) >= _FORK_MIN_FILES and _can_fork():
        try:
            return _hash_forked(files, min(workers, _MAX_PROCESSES, len(files) // 128))
        except _ForkFailed:
            pass  # e.g. EAGAIN: too many processes; the threads still work
    return _hash_threaded(files, min(workers, _MAX_THREADS))


def _hash_threaded(files: list[bytes], workers: int) -> list[bytes]:
    # Imported here: concurrent.futures pulls in logging (about 5 ms), which a file artifact
    # or a tree hashed inline or by forked workers never needs.
    from concurrent.futures import ThreadPoolExecutor

    # Many small batches so a large file does not leave a core idle; few enough that the
    # executor's per-task overhead stays negligible.
    size = max(8, min(256, len(files) // (workers * 16)))
    batches = [files[i : i + size] for i in range(0, len(files), size)]
    out: list[bytes] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fingerprint") as pool:
        for digests in pool.map(_hash_batch, batches):
            out.extend(digests)
    return out


# Threads scale only while hashlib runs without the GIL. For a typical tree of small files
# each file costs four syscalls, each releasing and re-taking the GIL, and on a virtualised
# 2-core runner the hand-offs cost more than they save: 2 threads hash 10,000 files / 200 MB
# in 0.16 s against 0.185 s for one, while a forked worker beside the parent takes 0.10 s.
# So large jobs fork when that is safe: Linux, and no other Python thread alive (forking a
# multi-threaded process can deadlock the child); otherwise they use the thread pool.
_FORK_MIN_FILES = 256
_MAX_PROCESSES = 16
_MAX_THREADS = 32
_DIGEST_LEN = 64


class _ForkFailed(Exception):
    """os.fork() failed; the caller falls back to threads."""


def _can_fork() -> bool:
    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


def _hash_forked(files: list[bytes], procs: int) -> list[bytes]:
    """Hash ``files[k::procs]`` in child ``k`` (the parent takes share 0), digests via pipes."""
    procs = max(2, procs)
    shares = [files[k::procs] for k in range(procs)]
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for share in shares[1:]:
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError as exc:
                os.close(read_fd)
                os.close(write_fd)
                raise _ForkFailed from exc
            if pid == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
                _child_main(share, read_fd, write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
        results = [_hash_batch(shares[0])]
        for (_pid, read_fd), share in zip(children, shares[1:], strict=True):
            results.append(_read_child(read_fd, len(share)))
    finally:
        for pid, read_fd in children:
            with contextlib.suppress(OSError):
                os.close(read_fd)  # a child still writing gets EPIPE and exits
            with contextlib.suppress(ChildProcessError):  # SIGCHLD ignored: already reaped
                os.waitpid(pid, 0)
    out: list[bytes] = [b""] * len(files)
    for k, digests in enumerate(results):
        out[k::procs] = digests
    return out


def _child_main(share: list[bytes], read_fd: int, write_fd: int) -> NoReturn:  # pragma: no cover
    """Hash a share and write ``b"K" + digests`` or ``b"E" + message NUL remedy``; never returns."""
    status = 0
    try:
        os.close(read_fd)
        try:
            payload = b"K" + b"".join(_hash_batch(share))
        except InputError as exc:
            payload = b"E" + _encode_error(exc.message, exc.remedy)
        except Exception as exc:  # reported to the parent, which raises it
            payload = b"E" + _encode_error(f"hashing worker failed: {exc!r}", None)
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _encode_error(message: str, remedy: str | None) -> bytes:
    text = message + "\0" + (remedy or "")
    return text.encode("utf-8", "surrogateescape")


def _read_child(read_fd: int, count: int) -> list[bytes]:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    payload = b"".join(chunks)
    if payload[:1] == b"E":
        message, _, remedy = payload[1:].decode("utf-8", "surrogateescape").partition("\0")
        raise InputError(message, remedy=remedy or None)
    body = payload[1:]
    if payload[:1] != b"K" or len(body) != count * _DIGEST_LEN:
        raise InputError("a hashing worker process ended early (killed or out of memory)")
    return [body[i : i + _DIGEST_LEN] for i in range(0, len(body), _DIGEST_LEN)]
