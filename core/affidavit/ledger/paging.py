"""Reading a long ordered listing a page at a time, each page asked from where the last ended:
what a store does to hold no more than a page of a large table, and the remote backend to ask
no answer the size of a ledger."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar

    Row = TypeVar("Row")

__all__ = ["paged"]


def paged(fetch: Callable[[Any], list[Row]], after: Any, size: int,
          cursor: Callable[[Row], Any]) -> Iterator[Row]:
    """Every row of ``fetch(after)``, ``fetch(cursor(last row))``, ... until a page holds fewer
    than ``size`` rows (``fetch`` asks for ``size``)."""
    while True:
        page = fetch(after)
        yield from page
        if len(page) < size:
            return
        after = cursor(page[-1])
