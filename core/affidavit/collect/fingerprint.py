"""SHA-256 fingerprints of file and directory artifacts, identical to Kosli CLI's.

A **file** fingerprint is the lowercase hex SHA-256 of the file's bytes (symlinks followed).

A **directory** fingerprint reproduces ``DirSha256`` of kosli-dev/cli,
``internal/digest/digest.go`` (functions ``DirSha256``, ``ignoreFilePathInTree``,
``resolveExcludePaths``, ``calculateDirContentSha256``, ``excludePathsFromFile``), checked
against the known-answer vectors of ``internal/digest/digest_test.go`` and the rule table of
``internal/digest/virtualignore_test.go``. In words:

1. The root must be a directory (``os.Stat``, so a symlink to a directory is accepted).
2. The tree is walked like Go's ``filepath.WalkDir``: depth first, pre-order, the entries of
   each directory in byte order of their names, so directories and files interleave
   (``a``, ``a/z``, ``a.txt``). The root itself contributes nothing (its name is not hashed,
   so renaming the root keeps the fingerprint). Symlinks are never descended into.
3. For every entry that is not excluded, the 64 ASCII characters of the hex SHA-256 of its
   *base name* (raw bytes) are appended to a stream. Then:

   - regular file, or symlink to a file: append the hex SHA-256 of its content;
   - directory: nothing more (its entries follow, in walk order);
   - symlink to a directory: append the hex SHA-256 of the link's *target text*
     (``readlink``), and do not descend.

   An empty directory therefore contributes only its name; an empty root gives
   ``sha256(b"")`` = ``e3b0c442…b855``.
4. The fingerprint is the hex SHA-256 of the whole stream (hex digests are concatenated, not
   raw bytes; there are no separators).

Exclusions (``exclude`` patterns, then the non-empty lines of a ``.kosli_ignore`` at the root)
are resolved the way Kosli resolves them, which is *not* gitignore matching: each pattern ``p``
is joined onto the root path with Go's ``filepath.Join`` (which cleans the path) and expanded
with ``filepathx.Glob`` -- Go's ``filepath.Glob`` (``*``, ``?``, ``[...]``/``[^...]``,
backslash escapes; ``*`` does not cross ``/`` but does match dot-files) where ``**`` splits the
pattern into pieces, each piece globbed after every path reached so far and every hit walked
recursively. An entry is excluded when the path string the walk builds for it
(``filepath.Join(parent, name)``) is *byte-equal* to one of the resolved paths; an excluded
directory is skipped with its whole subtree. Consequences kept on purpose, because they decide
the digest: ``logs`` and ``*/logs`` are anchored at the root; ``**/x`` never matches ``x`` at
the root (the pieces concatenate to ``root//x``) but does exclude the *contents* of a root
directory ``x``; ``**/*.log`` matches at every depth; a pattern starting with ``**`` matches
nothing when the root is given as ``.``; a malformed pattern (``[``) is an error.
``.kosli_ignore`` lines are read like Go's ``bufio.Scanner`` (``\\n`` or ``\\r\\n`` line ends,
a line of 64 KiB or more ends the list), cut at the first ``#``, stripped of white space.
Since Kosli CLI issue kosli-dev/server#6785 the root ignore file itself can never be excluded by
its own rules (so a tree cannot hide added files by listing them), only by an ``exclude``
pattern; the file is located by listing the root (exact name preferred over a case-folded
one, directories skipped).

Deliberate deviations, each where Kosli hangs, errors obscurely or measures nothing:

- a root given as a symlink to a directory is followed (Kosli's ``WalkDir`` does not descend
  into a symlinked root and returns the empty digest ``e3b0…`` for any such directory; we
  return what Kosli returns for the same path written with a trailing slash);
- FIFOs, sockets and devices inside the tree raise :class:`InputError` (Kosli blocks forever on
  a FIFO, fails on a socket and reads a device).

Kept although surprising, because it changes digests: the root path is joined into the glob
pattern unescaped, so when the root's own path contains ``* ? [ \\`` the patterns are matched
against other paths and usually exclude nothing -- as in Kosli.

Speed: the walk uses ``os.scandir`` (no per-file ``stat``); file contents are read into a reused
buffer and hashed on every core -- by forked worker processes for large jobs where forking is
safe, else by a thread pool (see ``_hash_files``) -- and the digests are combined in walk order
afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, NoReturn

from affidavit.errors import InputError, UsageError

__all__ = [
    "IGNORE_FILE_NAME",
    "ArtifactType",
    "fingerprint",
    "fingerprint_dir",
    "fingerprint_file",
]

ArtifactType = Literal["file", "dir"]
StrPath = str | os.PathLike[str]

IGNORE_FILE_NAME = ".kosli_ignore"
_IGNORE_B = IGNORE_FILE_NAME.encode()

_BUF_SIZE = 1 << 20  # read buffer per hashing thread
_MAX_SCAN_LINE = 64 * 1024  # bufio.MaxScanTokenSize: a longer line stops Go's Scanner
_GLOB_DEPTH_LIMIT = 10000  # Go's pathSeparatorsLimit (CVE-2022-30632)
_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


# --------------------------------------------------------------------------------------------
# public API


def fingerprint(path: StrPath, artifact_type: ArtifactType, exclude: Sequence[str] = ()) -> str:
    """Fingerprint ``path`` as a ``file`` or a ``dir`` artifact (hex SHA-256)."""
    if artifact_type == "file":
        if exclude:
            raise UsageError(
                f"exclude patterns apply only to a dir artifact, not to file {os.fspath(path)}"
            )
        return fingerprint_file(path)
    if artifact_type == "dir":
        return fingerprint_dir(path, exclude)
    raise UsageError(f"unknown artifact type {artifact_type!r} (expected 'file' or 'dir')")


def fingerprint_file(path: StrPath) -> str:
    """Hex SHA-256 of the content of the file at ``path`` (symlinks are followed)."""
    shown = os.fspath(path)
    raw = os.fsencode(path)
    try:
        st = os.stat(raw)
    except (OSError, ValueError) as exc:
        raise _input_error(shown, exc) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(
            f"{shown} is a directory, not a file", remedy="fingerprint it as a dir artifact"
        )
    try:
        # Not O_NONBLOCK here: a pipe (``<(cmd)``) is a legitimate file artifact.
        fd = os.open(raw, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            return _hash_fd(fd, bytearray(_BUF_SIZE))
        finally:
            os.close(fd)
    except OSError as exc:
        raise _input_error(shown, exc) from exc


def fingerprint_dir(path: StrPath, exclude: Sequence[str] = ()) -> str:
    """Hex SHA-256 of the directory at ``path`` computed exactly as Kosli CLI's ``DirSha256``.

    ``exclude`` holds Kosli ``--exclude`` patterns (already split on commas), relative to the
    root; a ``.kosli_ignore`` file at the root adds its lines. See the module docstring.
    """
    if isinstance(exclude, str | bytes):
        raise TypeError("exclude must be a sequence of patterns, not a single string")
    shown = os.fspath(path)
    root = os.fsencode(path)
    try:
        st = os.stat(root)
    except (OSError, ValueError) as exc:
        raise _input_error(shown, exc) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{shown} is not a directory", remedy="fingerprint it as a file artifact")

    ignore_file = _ignore_file_in_tree(root, shown)
    excluded = _resolve(root, [os.fsencode(p) for p in exclude], "exclude pattern")
    protected = ignore_file
    if ignore_file is not None and ignore_file in excluded:
        # An operator's pattern may exclude the ignore file (Kosli's migration path); its rules
        # still apply.
        protected = None
    if ignore_file is not None:
        rules = _read_ignore_rules(ignore_file)
        excluded |= _resolve(root, rules, f"rule in {os.fsdecode(ignore_file)}")

    parts, files = _walk(root, excluded, protected)
    digests = _hash_files(files)
    stream = b"".join(p if isinstance(p, bytes) else digests[p] for p in parts)
    return hashlib.sha256(stream).hexdigest()


# --------------------------------------------------------------------------------------------
# errors


def _input_error(shown: str, exc: BaseException) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{shown}: no such file or directory")
    if isinstance(exc, OSError) and exc.strerror:
        return InputError(f"{shown}: {exc.strerror.lower()}")
    return InputError(f"{shown}: {exc}")


def _path_error(path: bytes, exc: BaseException) -> InputError:
    return _input_error(os.fsdecode(path), exc)


# --------------------------------------------------------------------------------------------
# the walk


_Part = bytes | int  # a hex digest, or the index of a file whose content digest is pending


def _hex(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode("ascii")


def _go_child(parent: bytes, name: bytes) -> bytes:
    """``filepath.Join(parent, name)`` for a clean ``parent`` and a plain entry ``name``."""
    if parent == b".":
        return name
    if parent == b"/":
        return b"/" + name
    return parent + b"/" + name


def _scan(path: bytes) -> list[os.DirEntry[bytes]]:
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError as exc:
        raise _path_error(path, exc) from exc
    entries.sort(key=_entry_name)
    return entries


def _entry_name(entry: os.DirEntry[bytes]) -> bytes:
    return entry.name


def _walk(
    root: bytes, excluded: set[bytes], protected: bytes | None
) -> tuple[list[_Part], list[bytes]]:
    """The ordered stream parts and the files whose content digests are needed."""
    parts: list[_Part] = []
    files: list[bytes] = []
    check = bool(excluded)
    # One frame per open directory: an iterator over its sorted entries and the directory's
    # path as Kosli's walk spells it (only needed when there are exclusions).
    stack: list[tuple[Iterator[os.DirEntry[bytes]], bytes]] = [
        (iter(_scan(root)), _go_clean(root) if check else b"")
    ]
    while stack:
        entries, parent_go = stack[-1]
        for entry in entries:
            go_path = b""
            if check:
                go_path = _go_child(parent_go, entry.name)
                if go_path in excluded and go_path != protected:
                    continue  # an excluded directory is skipped with its subtree
            path = entry.path
            try:
                if entry.is_dir(follow_symlinks=False):
                    parts.append(_hex(entry.name))
                    stack.append((iter(_scan(path)), go_path))
                    break  # descend now: pre-order, like WalkDir
                if entry.is_file(follow_symlinks=False):
                    parts.append(_hex(entry.name))
                    parts.append(len(files))
                    files.append(path)
                elif entry.is_symlink():
                    parts.append(_hex(entry.name))
                    _add_symlink(path, parts, files)
                else:
                    raise InputError(
                        f"{os.fsdecode(path)} is a special file (FIFO, socket or device)",
                        remedy="exclude it",
                    )
            except OSError as exc:
                raise _path_error(path, exc) from exc
        else:
            stack.pop()
    return parts, files


def _add_symlink(path: bytes, parts: list[_Part], files: list[bytes]) -> None:
    """A symlink to a file counts as the file; one to a directory as its target's text."""
    try:
        target = os.stat(path)
    except OSError as exc:
        raise InputError(
            f"{os.fsdecode(path)} is a symlink whose target cannot be read: "
            f"{(exc.strerror or str(exc)).lower()}"
        ) from exc
    if stat.S_ISDIR(target.st_mode):
        parts.append(_hex(os.readlink(path)))  # not descended into, as in WalkDir
    elif stat.S_ISREG(target.st_mode):
        parts.append(len(files))
        files.append(path)
    else:
        raise InputError(f"{os.fsdecode(path)} links to a special file (FIFO, socket or device)")


# --------------------------------------------------------------------------------------------
# content hashing


def _hash_fd(fd: int, buf: bytearray) -> str:
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
        buf = bytearray(_BUF_SIZE)
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
            fd = os.open(path, _O_READ)
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
            raise _path_error(path, exc) from exc
        append(h.hexdigest().encode("ascii"))
    return out


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def _hash_files(files: list[bytes]) -> list[bytes]:
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


# --------------------------------------------------------------------------------------------
# the root ignore file


def _ignore_file_in_tree(root: bytes, shown: str) -> bytes | None:
    """The root ignore file as the walk will spell it, or None (``ignoreFilePathInTree``)."""
    try:
        os.lstat(os.path.join(root, _IGNORE_B))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _input_error(shown, exc) from exc
    root_go = _go_clean(root)
    folded: bytes | None = None
    for entry in _scan(root):
        try:
            if entry.is_dir(follow_symlinks=False):
                continue
        except OSError as exc:
            raise _path_error(entry.path, exc) from exc
        if entry.name == _IGNORE_B:
            return _go_child(root_go, entry.name)
        if folded is None and _equal_fold_ignore_name(entry.name):
            folded = _go_child(root_go, entry.name)
    return folded


# Go's strings.EqualFold against ".kosli_ignore": ASCII case plus the two non-ASCII runes in
# the simple-fold orbits of its letters (KELVIN SIGN for k, LATIN SMALL LETTER LONG S for s).
_FOLDS = {c: {c, c.upper()} for c in IGNORE_FILE_NAME}
_FOLDS["k"].add("\u212a")
_FOLDS["s"].add("\u017f")


def _equal_fold_ignore_name(name: bytes) -> bool:
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(text) == len(IGNORE_FILE_NAME) and all(
        c in _FOLDS[t] for c, t in zip(text, IGNORE_FILE_NAME, strict=True)
    )


# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's str.strip also strips \x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _read_ignore_rules(path: bytes) -> list[bytes]:
    """The rules of an ignore file, read as Kosli's ``excludePathsFromFile`` reads them."""
    try:
        fd = os.open(path, _O_READ)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise _path_error(path, exc) from exc
    chunks: list[bytes] = []
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        # Go's Scanner stops silently on a read error (e.g. the name links to a directory).
        chunks = []
    finally:
        os.close(fd)
    data = b"".join(chunks)
    rules: list[bytes] = []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # a final newline does not start another line
    for line in lines:
        if len(line) >= _MAX_SCAN_LINE:
            break  # bufio.ErrTooLong: Kosli ignores the error and keeps the rules so far
        if line.endswith(b"\r"):
            line = line[:-1]
        line = line.split(b"#", 1)[0].rstrip(b" ")
        text = line.decode("utf-8", "surrogateescape").strip(_GO_SPACE)
        if text:
            rules.append(text.encode("utf-8", "surrogateescape"))
    return rules


# --------------------------------------------------------------------------------------------
# Go's path/filepath (Unix) and yargevad/filepathx, re-implemented on bytes


class _BadPattern(Exception):
    """Go's filepath.ErrBadPattern."""


def _go_clean(path: bytes) -> bytes:
    """Go's ``filepath.Clean``."""
    if not path:
        return b"."
    rooted = path.startswith(b"/")
    out: list[bytes] = []
    dotdot = 0  # number of leading ".." elements that cannot be backtracked
    for elem in path.split(b"/"):
        if elem in (b"", b"."):
            continue
        if elem == b"..":
            if len(out) > dotdot:
                out.pop()
            elif not rooted:
                out.append(b"..")
                dotdot = len(out)
            continue
        out.append(elem)
    cleaned = b"/".join(out)
    if rooted:
        return b"/" + cleaned
    return cleaned or b"."


def _go_join(*elems: bytes) -> bytes:
    """Go's ``filepath.Join``: non-empty elements joined with ``/``, then cleaned."""
    kept = [e for e in elems if e]
    if not kept:
        return b""
    return _go_clean(b"/".join(kept))


def _decode_rune(s: bytes, i: int) -> tuple[int, int]:
    """Go's ``utf8.DecodeRune`` at ``s[i]``: (rune, width); invalid input is (U+FFFD, 1)."""
    b0 = s[i]
    if b0 < 0x80:
        return b0, 1
    if 0xC2 <= b0 <= 0xDF:
        n = 2
    elif 0xE0 <= b0 <= 0xEF:
        n = 3
    elif 0xF0 <= b0 <= 0xF4:
        n = 4
    else:
        return 0xFFFD, 1
    try:
        text = s[i : i + n].decode("utf-8")
    except UnicodeDecodeError:
        return 0xFFFD, 1
    return ord(text), n


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    i = 0
    while i < len(pattern) and pattern[i] == 0x2A:  # '*'
        i += 1
        star = True
    pattern = pattern[i:]
    inrange = False
    j = 0
    while j < len(pattern):
        c = pattern[j]
        if c == 0x5C:  # '\\'
            if j + 1 < len(pattern):
                j += 1
        elif c == 0x5B:  # '['
            inrange = True
        elif c == 0x5D:  # ']'
            inrange = False
        elif c == 0x2A and not inrange:
            return star, pattern[:j], pattern[j:]
        j += 1
    return star, pattern, b""


def _get_esc(chunk: bytes, i: int) -> tuple[int, int]:
    """A possibly escaped rune of a character class at ``chunk[i]``: (rune, next index)."""
    if i >= len(chunk) or chunk[i] in (0x2D, 0x5D):  # '-' or ']'
        raise _BadPattern
    if chunk[i] == 0x5C:
        i += 1
        if i >= len(chunk):
            raise _BadPattern
    r, n = _decode_rune(chunk, i)
    if r == 0xFFFD and n == 1:
        raise _BadPattern
    i += n
    if i >= len(chunk):
        raise _BadPattern
    return r, i


def _match_chunk(chunk: bytes, s: bytes) -> bytes | None:
    """Whether ``chunk`` matches the start of ``s``: the rest of ``s``, or None."""
    failed = False
    i = 0  # index in chunk
    k = 0  # index in s
    while i < len(chunk):
        failed = failed or k >= len(s)
        c = chunk[i]
        if c == 0x5B:  # '[' character class
            r = 0
            if not failed:
                r, n = _decode_rune(s, k)
                k += n
            i += 1
            negated = False
            if i < len(chunk) and chunk[i] == 0x5E:  # '^'
                negated = True
                i += 1
            matched = False
            nrange = 0
            while True:
                if i < len(chunk) and chunk[i] == 0x5D and nrange > 0:
                    i += 1
                    break
                lo, i = _get_esc(chunk, i)
                hi = lo
                if chunk[i] == 0x2D:  # '-'
                    hi, i = _get_esc(chunk, i + 1)
                matched = matched or lo <= r <= hi
                nrange += 1
            failed = failed or matched == negated
        elif c == 0x3F:  # '?'
            if not failed:
                failed = s[k] == 0x2F
                _, n = _decode_rune(s, k)
                k += n
            i += 1
        else:
            if c == 0x5C:  # '\\' escapes the next byte
                i += 1
                if i >= len(chunk):
                    raise _BadPattern
            if not failed:
                failed = chunk[i] != s[k]
                k += 1
            i += 1
    return None if failed else s[k:]


def _go_match(pattern: bytes, name: bytes) -> bool:
    """Go's ``filepath.Match`` (Unix); raises _BadPattern."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return b"/" not in name
        t = _match_chunk(chunk, name)
        if t is not None and (not t or pattern):
            name = t
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != 0x2F:
                t = _match_chunk(chunk, name[i + 1 :])
                if t is not None:
                    if not pattern and t:
                        i += 1
                        continue
                    name = t
                    found = True
                    break
                i += 1
            if found:
                continue
        return False
    return not name


def _has_meta(path: bytes) -> bool:
    return any(c in path for c in (b"*", b"?", b"[", b"\\"))


def _listdir_sorted(path: bytes) -> list[bytes]:
    return sorted(os.listdir(path))


def _go_glob(pattern: bytes, depth: int = 0) -> list[bytes]:
    """Go's ``filepath.Glob`` (Unix): file system errors are ignored, bad patterns raise."""
    if depth == _GLOB_DEPTH_LIMIT:
        raise _BadPattern
    _go_match(pattern, b"")  # validates the pattern before touching the file system
    if not _has_meta(pattern):
        try:
            os.lstat(pattern)
        except (OSError, ValueError):
            return []
        return [pattern]
    cut = pattern.rfind(b"/") + 1
    directory, file = pattern[:cut], pattern[cut:]
    if directory == b"":
        directory = b"."
    elif directory != b"/":
        directory = directory[:-1]
    if not _has_meta(directory):
        return _glob_in(directory, file, [])
    if directory == pattern:
        raise _BadPattern
    matches: list[bytes] = []
    for d in _go_glob(directory, depth + 1):
        matches = _glob_in(d, file, matches)
    return matches


def _glob_in(directory: bytes, pattern: bytes, matches: list[bytes]) -> list[bytes]:
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            return matches
        names = _listdir_sorted(directory)
    except (OSError, ValueError):
        return matches
    for name in names:
        if _go_match(pattern, name):
            matches.append(_go_join(directory, name))
    return matches


def _go_walk(root: bytes, visit: Callable[[bytes], None]) -> None:
    """Go's ``filepath.Walk`` as filepathx drives it: any error aborts."""
    stack = [root]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
            visit(path)
            if stat.S_ISDIR(st.st_mode):
                names = _listdir_sorted(path)
                stack.extend(_go_join(path, n) for n in reversed(names))
        except (OSError, ValueError) as exc:
            raise _path_error(path, exc) from exc


def _filepathx_glob(pattern: bytes) -> list[bytes]:
    """``filepathx.Glob``: Go's Glob, with ``**`` matching any number of directory levels."""
    if b"**" not in pattern:
        return _go_glob(pattern)
    matches = [b""]
    for piece in pattern.split(b"**"):
        hits: list[bytes] = []
        seen: set[bytes] = set()

        def add(path: bytes, hits: list[bytes] = hits, seen: set[bytes] = seen) -> None:
            if path not in seen:
                seen.add(path)
                hits.append(path)

        for match in matches:
            for path in _go_glob(match + piece):
                _go_walk(path, add)
        matches = hits
    return matches


def _resolve(root: bytes, patterns: Iterable[bytes], what: str) -> set[bytes]:
    """Kosli's ``resolveExcludePaths``: the paths the patterns match, spelled as Go spells them."""
    found: set[bytes] = set()
    for pattern in patterns:
        try:
            found.update(_filepathx_glob(_go_join(root, pattern)))
        except _BadPattern:
            text = os.fsdecode(pattern)
            raise InputError(f"{what} {text!r}: syntax error in pattern") from None
        except RecursionError:
            text = os.fsdecode(pattern)
            raise InputError(f"{what} {text!r}: pattern too complex") from None
    return found
