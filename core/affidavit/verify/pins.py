"""Trust on first use of a remote ledger: the identity it first showed is the one it must keep.

A server chooses what key and origin it presents, so a client that believed whatever key it is
shown would follow a server that swapped its key and history (or dropped its ledger and began
a new one) without a word: the seen memory is per origin and key, and a new pair has none.
So the first time this client uses a remote ledger URL it remembers the origin and verifier
key it showed, and every later use must show the same; ``--public-key`` or
``AFFIDAVIT_PUBLIC_KEY`` pins the key up front instead. A different identity is an integrity
failure naming both; the memory file is never replaced silently.
"""

from __future__ import annotations

import json
import os

from affidavit.errors import IntegrityError
from affidavit.ledger.registry import cache_dir

__all__ = ["check_pin"]

_FORMAT = "affidavit-pin/v1"


def _path(url: str) -> str:
    from affidavit.digest import sha256

    return os.path.join(cache_dir(), "pins", sha256(url.encode()).hexdigest()[:32] + ".json")


def check_pin(url: str, origin: str, key: str) -> None:
    """Remember ``url``'s identity on first use; afterwards refuse any other."""
    path = _path(url)
    try:
        with open(path, encoding="utf-8") as fh:
            pinned = json.load(fh)
    except FileNotFoundError:
        pinned = None
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"pin {path} cannot be read ({exc})",
                             remedy="inspect it; delete it only if you trust the server") from None
    if pinned is None:
        from affidavit.atomic import temp_beside

        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp, handle = temp_beside(path)
            with os.fdopen(handle, "w", encoding="utf-8") as fh:
                json.dump({"format": _FORMAT, "url": url, "origin": origin, "key": key}, fh)
            os.replace(tmp, path)
        except OSError as exc:
            raise IntegrityError(f"pin {path} cannot be written ({exc.strerror or exc}): the "
                                 f"identity of {url} could not be remembered") from None
        return
    if not isinstance(pinned, dict) or pinned.get("format") != _FORMAT:
        raise IntegrityError(f"pin {path} is not an affidavit pin")
    if (pinned.get("origin"), pinned.get("key")) != (origin, key):
        raise IntegrityError(
            f"ledger {url} now presents origin {origin!r} signed by {key}, but was first "
            f"used as origin {pinned.get('origin')!r} signed by {pinned.get('key')}",
            remedy="the server's ledger or key was replaced; if that was intended, pin the new "
                   f"key with AFFIDAVIT_PUBLIC_KEY and remove {path}")
