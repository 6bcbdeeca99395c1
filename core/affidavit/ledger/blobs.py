"""Evidence vault on a local file system: ``<root>/<2 hex>/<62 hex>``, written atomically and
only together with the entry that names it (:class:`Incoming`)."""

from __future__ import annotations

import os

from affidavit.errors import InputError, IntegrityError, LedgerUnavailable, NotFoundError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import BinaryIO

    from affidavit.ledger.base import BlobStore

__all__ = ["FileBlobStore", "Incoming", "hash_file", "read_verified"]

_CHUNK = 1 << 20


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 hex digest and size of an evidence file, read in 1 MiB chunks (a dry run's
    :meth:`Incoming.add`); a file that cannot be read is ``InputError``, as there."""
    from affidavit.digest import sha256_for, size_of

    size = 0
    src = _open_evidence(path)
    digest = sha256_for(size_of(src))
    try:
        while chunk := _read_evidence(src, path):
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(src)
    return digest.hexdigest(), size


def read_verified(store: BlobStore, digest: str, where: str) -> bytes:
    """The bytes ``store`` holds under ``digest`` (any store's ``open``), refused when they no
    longer hash to their name; ``where`` names the store in the refusal."""
    import hashlib

    with store.open(digest) as fh:
        data = fh.read()
    if hashlib.sha256(data).hexdigest() != digest:
        raise IntegrityError(f"evidence {digest} in {where} does not match its digest")
    return data


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _open_evidence(path: str | os.PathLike[str]) -> int:
    """A descriptor on the regular file ``path``, opened without blocking (a FIFO put in the
    file's place cannot hang the write); anything else is the caller's input error."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"evidence file {os.fspath(path)}: {_reason(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputError(f"evidence file {os.fspath(path)}: {_reason(exc)}") from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"evidence file {os.fspath(path)}: {what}")
    return fd


def _read_evidence(fd: int, path: str | os.PathLike[str]) -> bytes:
    try:
        return os.read(fd, _CHUNK)
    except OSError as exc:
        raise InputError(f"evidence file {os.fspath(path)}: {_reason(exc)}") from None


def _mkdir(path: str) -> bool:
    """Make the folder ``path``; whether this call made it (so that a failed write removes only
    the folders it added)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return False
    return True


def _sync_folder(path: str) -> None:
    """Make the names in ``path`` durable: a rename is not, until its folder is synced."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        import errno  # only here: the write path imports nothing it does not use

        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise  # a file system that cannot sync a folder has nothing more to make durable
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:  # noqa: SIM105  (contextlib.suppress would cost an import on the write path)
        os.unlink(path)
    except OSError:
        pass


class Incoming:
    """Evidence files on their way into the vault together with one append.

    Why not store each file at once: a file stored before its entry is committed stays behind,
    named by no entry, whenever the append then fails (a read-only or full database, a head
    that moved, a commit that cannot be written). So :meth:`add` only copies a file into the
    vault's folder under a temporary name, synced; the ledger calls :meth:`place` inside its
    write transaction, after every row is written and just before the commit, and :meth:`undo`
    when the append fails; the writer calls :meth:`close` in the end, whatever happened, to
    remove what was never placed.

    Why place before the commit rather than after: a crash between the two then leaves a file
    no entry names (harmless: a later write of the same bytes takes its name over), never an
    entry naming a file the vault lacks, which ``verify ledger`` would have to report as lost
    evidence. A crash before the placing leaves an ``.incoming-`` file, which no reader
    looks at. Placing inside the transaction also serialises it with every other writer, so one
    writer's undo cannot remove a file another's entry has just committed; the undo removes a
    file only while it is the very file this batch placed (same inode), and every writer places
    its own copy even when the digest is there, so a copy committed by another writer is never
    the one removed.
    """

    __slots__ = ("store", "_staged", "_placed", "_folders")

    def __init__(self, store: FileBlobStore) -> None:
        self.store = store
        self._staged: dict[str, tuple[str, tuple[int, int]]] = {}  # digest -> (temp, inode)
        self._placed: list[tuple[str, tuple[int, int]]] = []  # new blobs: (path, inode)
        self._folders: list[str] = []  # folders this batch made, outermost first

    def add(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Copy ``path`` into the vault's folder under a temporary name while hashing it; its
        digest and size. The file is read as it is now: what is hashed is what is stored.

        A file that cannot be read is the caller's input (``InputError``, exit 2); a vault
        that cannot be written is the ledger's (``LedgerUnavailable``, exit 3)."""
        from affidavit.digest import sha256_for, size_of

        src = _open_evidence(path)
        try:
            fd, tmp = self._temporary()
            try:
                digest = sha256_for(size_of(src))
                size = 0
                with os.fdopen(fd, "wb") as out:
                    while chunk := _read_evidence(src, path):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                    info = os.fstat(out.fileno())
            except BaseException:
                _remove(tmp)
                raise
        except OSError as exc:
            raise self._failed(exc) from None
        finally:
            os.close(src)
        hexdigest = digest.hexdigest()
        if hexdigest in self._staged:  # the same bytes twice: one copy is placed
            _remove(tmp)
        else:
            self._staged[hexdigest] = (tmp, (info.st_dev, info.st_ino))
        return hexdigest, size

    def _temporary(self) -> tuple[int, str]:
        """A new, private temporary file in the vault, as ``tempfile.mkstemp`` makes one.

        Not ``tempfile`` itself: it imports ``shutil``, ``random`` and the compression modules
        (about 4 ms), which every ``attest`` that keeps a report as evidence would pay.
        """
        root = self.store.root
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        for attempt in range(100):
            if not self._folders and _mkdir(root):
                self._folders.append(root)
            path = os.path.join(root, f".incoming-{os.urandom(8).hex()}")
            try:
                return os.open(path, flags, 0o600), path
            except FileExistsError:
                continue
            except FileNotFoundError:
                if attempt:  # made once, gone again (another writer's undo): try once more
                    raise
        raise FileExistsError(f"no free temporary name in {root}")

    def _failed(self, exc: OSError) -> LedgerUnavailable:
        return LedgerUnavailable(f"evidence vault {self.store.root}: {_reason(exc)}",
                                 remedy="nothing was recorded")

    def place(self) -> None:
        """Rename every staged file under its digest and sync the folders of the new names:
        called by the ledger inside its write transaction, just before the commit (see the
        class docstring). A rename is durable only once its folder is synced; without that a
        crash could keep the commit and lose the name, the one order this class exists to
        rule out. A file already under its digest needs no sync: the rename over it leaves a
        name there at every instant."""
        store = self.store
        try:
            folders: dict[str, None] = {}
            for digest, (tmp, inode) in list(self._staged.items()):
                final = store._path(digest)
                folder = os.path.dirname(final)
                for attempt in (0, 1):
                    if _mkdir(folder):
                        self._folders.append(folder)
                        folders[store.root] = None
                    existed = os.path.lexists(final)
                    try:
                        os.replace(tmp, final)
                        break
                    except FileNotFoundError:  # the folder went (another writer's undo)
                        if attempt or not os.path.exists(tmp):
                            raise
                del self._staged[digest]
                if not existed:  # a name already there stays there, through the rename
                    self._placed.append((final, inode))
                    folders[folder] = None
            if store.root in self._folders:
                folders[os.path.dirname(os.path.abspath(store.root))] = None
            for folder in folders:
                _sync_folder(folder)
        except OSError as exc:
            raise self._failed(exc) from None

    def undo(self) -> None:
        """The append failed: remove the files :meth:`place` added, what it had not placed yet,
        and the folders this batch made."""
        for final, inode in reversed(self._placed):
            try:
                info = os.lstat(final)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) == inode:
                _remove(final)
        self._placed.clear()
        self._discard()

    def close(self) -> None:
        """Remove what was staged and never placed (the write failed before its append), with
        the folders made for it; placed files stay: their entry is committed."""
        self._discard()

    def _discard(self) -> None:
        for tmp, _ in self._staged.values():
            _remove(tmp)
        self._staged.clear()
        if not self._placed:
            for folder in reversed(self._folders):
                try:  # noqa: SIM105  (no contextlib on the write path)
                    os.rmdir(folder)  # refused while another writer's file is in it: kept
                except OSError:
                    pass
            self._folders.clear()


class FileBlobStore:
    """Content-addressed blobs in a directory; a blob is renamed into place only once complete,
    and only with the entry that names it (:class:`Incoming`)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, digest: str) -> str:
        return os.path.join(self.root, digest[:2], digest[2:])

    def has(self, digest: str) -> bool:
        """Whether the blob is present (as a regular file, not a link to one)."""
        import stat

        try:
            return stat.S_ISREG(os.lstat(self._path(digest)).st_mode)
        except OSError:
            return False

    def incoming(self) -> Incoming:
        """A batch of evidence files to store with the next append (:class:`Incoming`)."""
        return Incoming(self)

    def open(self, digest: str) -> BinaryIO:
        """Open a blob for reading. Only a regular file is a blob: a link (to ``/dev/zero``,
        say) or a FIFO planted in the vault is refused instead of read forever."""
        import stat

        path = self._path(digest)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise NotFoundError(f"evidence {digest} is not in the vault at {self.root}") from None
        except OSError as exc:
            raise IntegrityError(f"evidence {digest} in the vault at {self.root} cannot be "
                                 f"opened as a file ({(exc.strerror or str(exc)).lower()})"
                                 ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise IntegrityError(f"evidence {digest} in the vault at {self.root} is not a "
                                 "regular file")
        return os.fdopen(fd, "rb")

    def read_verified(self, digest: str) -> bytes:
        """The blob's bytes, refused when they no longer hash to their name."""
        return read_verified(self, digest, self.root)
