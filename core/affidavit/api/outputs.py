"""The files a command is asked to write besides its answer: ``--summary-file``,
``--outputs-file``, and ``-o``. Checked before anything is recorded, so that an output that
cannot be written fails the step (exit 2) with the ledger unchanged, instead of after the
entry was appended."""

from __future__ import annotations

from affidavit.atomic import unwritable
from affidavit.errors import UsageError

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from affidavit.api.inputs import PathArg

__all__ = ["check_output_file"]


def check_output_file(flag: str, path: PathArg | None, *, replace: bool = False) -> None:
    """Refuse (``UsageError``, naming ``flag``) an output file that could not be written: a
    directory, a FIFO or a device, a symbolic link loop, a read-only file, a missing or
    unwritable folder (see :func:`affidavit.atomic.unwritable`). ``replace`` is for outputs
    written beside and renamed over the target, rather than appended to."""
    if path:
        why = unwritable(path, replace=replace)
        if why is not None:
            raise UsageError(f"{flag} {path}: {why}")
