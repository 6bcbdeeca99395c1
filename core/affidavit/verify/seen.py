"""What this client remembers of every ledger it used: the latest signed checkpoint it saw or
signed, so that a ledger rolled back, rewritten or forked since is caught by the next command.

The memory is keyed by the ledger's origin and verifier key, never by how its location is
spelled: ``path``, ``sqlite:///path`` and ``sqlite:////abs//path`` are one ledger. Each file
holds the signed checkpoint note itself, so it proves what was seen and is checked again on
every load. A file that cannot be read, does not verify or belongs to another ledger is an
integrity failure naming the file; it is never silently replaced.

Concurrency: a writer commits, then remembers; a reader loads the memory, then takes its read
snapshot. Whatever a reader finds remembered is therefore at most what its snapshot holds, and
two processes that remember different checkpoints keep the larger, under a file lock.
"""

from __future__ import annotations

import json
import os

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import note
from affidavit.ledger.checkpoint import Checkpoint
from affidavit.ledger.registry import cache_dir

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Seen", "seen_file"]

_FORMAT = "affidavit-seen/v1"


def seen_file(origin: str, verifier_key: str) -> str:
    """The memory file of the ledger ``origin`` signed by ``verifier_key``."""
    from affidavit.digest import sha256

    name = sha256(f"{origin}\n{verifier_key}".encode()).hexdigest()[:32]
    return os.path.join(cache_dir(), "seen", f"{name}.json")


def _corrupt(path: str, why: str) -> IntegrityError:
    return IntegrityError(f"seen memory {path} is corrupt: {why}",
                          remedy="inspect it; delete it only if you trust the ledger as it is")


class Seen:
    """The remembered checkpoint of one ledger (origin and key)."""

    __slots__ = ("origin", "verifier", "path")

    def __init__(self, origin: str, verifier: note.Verifier) -> None:
        self.origin = origin
        self.verifier = verifier
        self.path = seen_file(origin, verifier.key)

    def load(self) -> tuple[Checkpoint, str] | None:
        """The remembered checkpoint and its signed note, or None on first use."""
        import stat

        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            import errno

            if exc.errno == errno.ELOOP:  # a link where the memory should be
                raise _corrupt(self.path, "it is a symbolic link") from None
            raise InputError(
                f"cannot read the seen memory {self.path}: {(exc.strerror or str(exc)).lower()}",
                remedy="set AFFIDAVIT_CACHE_DIR to a folder this user can read and write"
            ) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _corrupt(self.path, "it is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as fh:
                raw = fh.read(1 << 16).decode("utf-8", "replace")
        except OSError as exc:
            raise InputError(  # unreadable is not "never seen": refuse rather than forget
                f"cannot read the seen memory {self.path}: {(exc.strerror or str(exc)).lower()}",
                remedy="set AFFIDAVIT_CACHE_DIR to a folder this user can read and write"
            ) from None
        finally:
            os.close(fd)
        try:
            doc = json.loads(raw)
            signed = doc["checkpoint"]
            valid = (doc.get("format") == _FORMAT and doc.get("origin") == self.origin
                     and doc.get("verifier_key") == self.verifier.key
                     and isinstance(signed, str))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise _corrupt(self.path, "not a seen-memory document") from None
        if not valid:
            raise _corrupt(self.path, "it names another ledger or format")
        try:
            checkpoint = Checkpoint.parse(note.open_note(signed, [self.verifier]))
        except IntegrityError as exc:
            raise _corrupt(self.path, exc.message) from None
        if checkpoint.origin != self.origin:
            raise _corrupt(self.path, "its checkpoint is of another origin")
        return checkpoint, signed

    def check(self, current: Checkpoint, consistency: Callable[[int, int], list[bytes]],
              remembered: tuple[Checkpoint, str] | None) -> Checkpoint | None:
        """Raise unless ``current`` extends ``remembered`` (what :meth:`load` returned before
        the caller's read snapshot began); return the remembered checkpoint.

        ``consistency(size1, size2)`` fetches a consistency proof from the ledger.
        """
        from affidavit.ledger import proof

        if remembered is None:
            return None
        seen, _ = remembered
        what = f"ledger {self.origin}"
        if seen.size > current.size:
            raise IntegrityError(
                f"{what} is at size {current.size} but this client saw size {seen.size}: "
                "history was rolled back or truncated",
                remedy=f"the checkpoint it saw is in {self.path}")
        if seen.size == current.size:
            if (seen.root, seen.extensions) != (current.root, current.extensions):
                raise IntegrityError(
                    f"{what} shows a different tree at size {seen.size} than this client saw: "
                    "history was rewritten (a fork)", remedy=f"compare with {self.path}")
            return seen
        if seen.size > 0:
            try:
                proof.verify_consistency(seen.size, current.size,
                                         consistency(seen.size, current.size),
                                         seen.root, current.root)
            except IntegrityError as exc:
                raise IntegrityError(
                    f"{what}: size {current.size} does not extend the size {seen.size} this "
                    f"client saw: history was rewritten ({exc.message})",
                    remedy=f"the checkpoint it saw is in {self.path}") from None
        return seen

    def check_writable(self) -> None:
        """Refuse now, before a write appends, when the checkpoint it will sign could not be
        remembered: an entry appended and then left unwatched would be written on an error.
        Creates the folder and the lock file :meth:`remember` needs, and a temporary beside
        the memory, which is removed again."""
        from affidavit.atomic import temp_beside

        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            os.close(os.open(self.path + ".lock",
                             os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
            tmp, handle = temp_beside(self.path)
            os.close(handle)
            os.unlink(tmp)
        except OSError as exc:
            raise InputError(
                f"cannot remember the ledger's checkpoint in {folder}: "
                f"{(exc.strerror or str(exc)).lower()}",
                remedy="set AFFIDAVIT_CACHE_DIR to a writable folder") from None

    def remember(self, current: Checkpoint, signed: str) -> None:
        """Keep ``current`` (whose note is ``signed``) unless something newer is remembered;
        the same size with another tree is a fork and raises."""
        import fcntl

        folder = os.path.dirname(self.path)
        try:
            os.makedirs(folder, exist_ok=True)
            lock = os.open(self.path + ".lock",
                           os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise InputError(
                f"cannot remember the ledger's checkpoint in {folder}: "
                f"{(exc.strerror or str(exc)).lower()}",
                remedy="set AFFIDAVIT_CACHE_DIR to a writable folder") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            remembered = self.load()
            if remembered is not None:
                seen, _ = remembered
                if seen.size > current.size:
                    return
                if seen.size == current.size:
                    if (seen.root, seen.extensions) != (current.root, current.extensions):
                        raise IntegrityError(
                            f"ledger {self.origin} signed two different trees of size "
                            f"{seen.size} (a fork)", remedy=f"compare with {self.path}")
                    return
            doc = {"format": _FORMAT, "origin": self.origin,
                   "verifier_key": self.verifier.key, "checkpoint": signed}
            from affidavit.atomic import temp_beside

            try:
                tmp, handle = temp_beside(self.path)
                with os.fdopen(handle, "w", encoding="utf-8") as fh:
                    json.dump(doc, fh)
                os.replace(tmp, self.path)
            except OSError as exc:
                raise InputError(
                    f"cannot remember the ledger's checkpoint in {self.path}: "
                    f"{(exc.strerror or str(exc)).lower()}",
                    remedy="set AFFIDAVIT_CACHE_DIR to a writable folder") from None
        finally:
            os.close(lock)
