"""``snapshot json``: a list of running artifacts from any source, ``[{name, fingerprint, …}]``.

Anything a deploy tool can print can be a snapshot: each item names the artifact and gives its
SHA-256; ``instances`` (how many copies run) is kept as a count, and every other scalar field
as a detail, so a source's own facts (an image reference, a host) reach the record without a
model per tool. Nested values are refused rather than flattened: their meaning is the
source's, and a snapshot must say only what it was told.
"""

from __future__ import annotations

from affidavit.errors import InputError
from affidavit.models.fields import SHA256_PATTERN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MAX_ITEMS", "parse_listing"]

MAX_ITEMS = 100_000
"""Most artifacts one snapshot lists (a large cluster runs a few thousand)."""


def parse_listing(items: Any, where: str) -> list[dict[str, Any]]:
    """The running artifacts ``items`` (parsed strict JSON) lists; :class:`InputError` naming
    ``where`` and the item when anything in it is not what a snapshot can record."""
    import re

    if not isinstance(items, list):
        raise InputError(f"{where}: expected a JSON list of {{name, fingerprint}} objects")
    if len(items) > MAX_ITEMS:
        raise InputError(f"{where}: {len(items)} items, more than the {MAX_ITEMS} a snapshot "
                         "may list")
    sha = re.compile(SHA256_PATTERN)
    out = []
    for n, item in enumerate(items):
        at = f"{where}: item {n}"
        if not isinstance(item, dict):
            raise InputError(f"{at} is not an object")
        name, fingerprint = item.get("name"), item.get("fingerprint")
        if not isinstance(name, str) or not 1 <= len(name) <= 1024:
            raise InputError(f"{at}: 'name' must be a string of 1 to 1024 characters")
        if not isinstance(fingerprint, str) or not sha.match(fingerprint.lower()):
            raise InputError(f"{at} ({name}): 'fingerprint' must be a hex SHA-256")
        instances = item.get("instances")
        if instances is not None and (isinstance(instances, bool)
                                      or not isinstance(instances, int) or instances < 0):
            raise InputError(f"{at} ({name}): 'instances' must be a whole number")
        details = {}
        for key, value in item.items():
            if key in ("name", "fingerprint", "instances"):
                continue
            if isinstance(value, (dict, list)):
                raise InputError(f"{at} ({name}): {key!r} is not a string, number, boolean "
                                 "or null")
            details[key] = value
        artifact: dict[str, Any] = {"name": name, "fingerprint": fingerprint.lower()}
        if instances is not None:
            artifact["instances"] = instances
        if details:
            artifact["details"] = details
        out.append(artifact)
    return out
