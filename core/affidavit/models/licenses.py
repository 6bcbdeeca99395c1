"""SPDX licence expressions read one way for the SBOM collector and its policy.

Both sides of ``--deny-license`` go through :func:`license_keys`: the denied values when the
policy is shaped (``compliance/sbom.py``) and every component's licence when the SBOM is read
(``collect/sbom``), so a component is denied exactly when the two key sets meet. The keys are
those of ``license-expression``'s SPDX licensing, lower-cased: matching ignores case (as the
SPDX spec says of identifiers and operators), and deprecated identifiers are read as the ones
that replaced them (``GPL-2.0`` is ``GPL-2.0-only``, ``GPL-2.0+`` is ``GPL-2.0-or-later``).
An expression's keys are every licence and exception it names, whatever its operators: a
component under ``MIT OR GPL-3.0-only`` *includes* ``GPL-3.0-only``.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs 3 ms to import; the CLI's write path avoids it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Keys", "license_keys", "licensing"]

_CACHE_MAX = 4096
_cache: dict[str, Keys] = {}
_licensing: list[tuple[Any, Any]] = []


class Keys:
    """What :func:`license_keys` found in one expression: ``names`` the identifiers as the
    SPDX list spells them, ``keys`` the same lower-cased, ``unknown`` those the SPDX licence
    list does not hold (``LicenseRef-``/``DocumentRef-`` references are never unknown),
    ``error`` why it does not parse (then no names)."""

    __slots__ = ("names", "keys", "unknown", "error")

    def __init__(self, names: tuple[str, ...], unknown: tuple[str, ...],
                 error: str | None) -> None:
        self.names, self.unknown, self.error = names, unknown, error
        self.keys = frozenset(name.lower() for name in names)


def licensing() -> Any:
    """``license_expression.get_spdx_licensing()``, built once (the ``sbom`` extra)."""
    if not _licensing:
        from affidavit.errors import UsageError

        try:  # imported by name: the package ships no type hints
            module = importlib.import_module("license_expression")
        except ImportError:
            raise UsageError("reading SBOM licences needs license-expression, which is not "
                             "installed", remedy="pip install 'affidavit[sbom]'") from None
        _licensing.append((module.get_spdx_licensing(), module.ExpressionError))
    return _licensing[0][0]


def license_keys(expression: str) -> Keys:
    """The keys of one SPDX licence expression or identifier (cached: an SBOM repeats a few
    dozen licences over thousands of components)."""
    found = _cache.get(expression)
    if found is not None:
        return found
    spdx = licensing()
    error = _licensing[0][1]
    try:
        parsed = spdx.parse(expression, validate=False, strict=False)
    except (error, TypeError, ValueError) as exc:
        found = Keys((), (), " ".join(str(exc).split())[:200] or "does not parse")
    else:
        if parsed is None:
            found = Keys((), (), "is empty")
        else:
            names = spdx.license_keys(parsed, unique=True)
            unknown = tuple(name for name in spdx.unknown_license_keys(parsed, unique=True)
                            if not name.startswith(("LicenseRef-", "DocumentRef-")))
            found = Keys(tuple(names), unknown, None)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[expression] = found
    return found
