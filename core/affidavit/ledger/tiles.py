"""Static tiled logs in the C2SP ``tlog-tiles`` layout (https://c2sp.org/tlog-tiles): paths,
entry bundles, tiles built one leaf at a time, and roots and proofs read back from tiles.

A tiled log is a ``checkpoint``, hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry bundles
``tile/entries/<N>[.p/<W>]``. The ``n``-th tile at level ``l`` holds, for ``i`` in 0..255,
``MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1) * 256**l])``: level 0 the leaf hashes, level 1
the root of each full level-0 tile, and so on. The rightmost tile of each level is *partial*
(``floor(size / 256**l) mod 256`` hashes, never an empty one) and is written under its width,
so a partial tile never takes the path its full form will have: every path, once written,
keeps its bytes. A bundle is its entries, each after a big-endian ``uint16`` length.

Readers here take tiles from a ``read(level, index, width)`` callback, so that what is checked
is what the store serves, and nothing is held beyond the tiles on one path of the tree.
"""

from __future__ import annotations

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import proof
from affidavit.ledger.compact import CompactRange
from affidavit.ledger.rfc6962 import HASH_SIZE, fold

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    #: ``read(level, index, width)``: the tile's bytes, ``width`` hashes of 32 bytes.
    TileReader = Callable[[int, int, int], bytes]

__all__ = ["CHECKPOINT", "HEIGHT", "MAX_ENTRY", "WIDTH", "TileBuilder", "consistency_proof",
           "encode_bundle", "entries_path", "parse_bundle", "root", "tile_path", "tile_width"]

CHECKPOINT = "checkpoint"
"""The path of the signed checkpoint, beside ``tile/``."""

HEIGHT = 8
"""Merkle levels one tile spans (fixed by the spec)."""

WIDTH = 1 << HEIGHT
"""Hashes in a full tile, and entries in a full bundle."""

MAX_ENTRY = 0xFFFF
"""The longest entry a bundle can frame (its length is a ``uint16``)."""

_MAX_LEVEL = 63


def _index_path(index: int) -> str:
    """``1234067`` -> ``x001/x234/067``: 3-digit groups, all but the last prefixed by ``x``."""
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    groups = []
    while True:
        index, group = divmod(index, 1000)
        groups.append(f"{group:03d}")
        if index == 0:
            break
    groups.reverse()
    return "/".join([f"x{g}" for g in groups[:-1]] + groups[-1:])


def _suffix(width: int) -> str:
    if not 1 <= width <= WIDTH:
        raise ValueError(f"tile width {width} is not between 1 and {WIDTH}")
    return "" if width == WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``width`` below 256 names the partial tile."""
    if not 0 <= level <= _MAX_LEVEL:
        raise ValueError(f"tile level {level} is not between 0 and {_MAX_LEVEL}")
    return f"tile/{level}/{_index_path(index)}{_suffix(width)}"


def entries_path(index: int, width: int = WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``: the bundle of entries ``[index*256, index*256 + width)``."""
    return f"tile/entries/{_index_path(index)}{_suffix(width)}"


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile ``(level, index)`` holds in the tree of ``size`` leaves: 256 for a
    full one, else the partial width; 0 when the tree has no such tile."""
    count = size >> (HEIGHT * level)  # complete nodes at this tile level
    full = count >> HEIGHT
    if index < full:
        return WIDTH
    return count % WIDTH if index == full else 0


def encode_bundle(entries: Sequence[bytes], first: int) -> bytes:
    """The bundle of ``entries`` (the first at log index ``first``, for the refusal): each one
    after its big-endian ``uint16`` length. An entry too long to frame is the caller's input
    (:class:`InputError`): the format cannot carry it, so no bundle is made."""
    out = bytearray()
    for n, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY:
            raise InputError(f"entry {first + n} has {len(entry)} bytes: a tlog-tiles entry "
                             f"bundle frames at most {MAX_ENTRY}",
                             remedy="mirror this ledger to a SQLite file or a server instead")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_bundle(data: bytes, width: int, where: str) -> list[bytes]:
    """The ``width`` entries of a bundle; :class:`IntegrityError` naming ``where`` unless the
    bytes are exactly that many length-prefixed entries."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise IntegrityError(f"{where}: the bundle ends inside a length prefix")
        length = int.from_bytes(data[pos:pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise IntegrityError(f"{where}: an entry runs past the end of the bundle")
        entries.append(data[pos:pos + length])
        pos += length
    if len(entries) != width:
        raise IntegrityError(f"{where}: holds {len(entries)} entries, not {width}")
    return entries


class TileBuilder:
    """The tiles of a tree grown one leaf hash at a time, with O(log n) memory: per level,
    the hashes of its partial tile. :meth:`append` returns the full tiles a leaf completes;
    :meth:`partial` the partial tiles of the tree as it is now (what a checkpoint of this size
    needs served). The same code writes a mirror's tiles and rebuilds them to check the ones
    stored, so both readings of the tree agree by construction or not at all."""

    __slots__ = ("_rows", "_range")

    def __init__(self) -> None:
        self._rows: list[list[bytes]] = [[]]
        self._range = CompactRange()

    @property
    def size(self) -> int:
        """Leaves appended so far."""
        return self._range.end

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far."""
        return self._range.root()

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return each tile it completes as ``(level, index, bytes)``."""
        if len(leaf) != HASH_SIZE:
            raise IntegrityError(f"leaf hash has {len(leaf)} bytes, not {HASH_SIZE}")
        self._range.append(leaf)
        done: list[tuple[int, int, bytes]] = []
        size, level, value = self._range.end, 0, leaf
        while True:
            row = self._rows[level]
            row.append(value)
            if len(row) < WIDTH:
                return done
            done.append((level, (size >> (HEIGHT * (level + 1))) - 1, b"".join(row)))
            value = fold(row)
            self._rows[level] = []
            level += 1
            if level == len(self._rows):
                self._rows.append([])

    def partial(self) -> list[tuple[int, int, int, bytes]]:
        """The partial tiles at the current size, as ``(level, index, width, bytes)``."""
        size = self._range.end
        return [(level, size >> (HEIGHT * (level + 1)), len(row), b"".join(row))
                for level, row in enumerate(self._rows) if row]


class _Nodes:
    """Node hashes of the tree of ``size`` leaves, read from its tiles (each tile once)."""

    def __init__(self, size: int, read: TileReader) -> None:
        self.size = size
        self.read = read
        self.tiles: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree ``(level, index)`` (``proof.NodeID``): a node at a
        tile level is a hash in a tile, any other is folded from the 2**r hashes under it in
        the tile level below (one tile: 2**r is at most 128, and aligned)."""
        tile_level, r = divmod(level, HEIGHT)
        first = index << r
        at = (tile_level, first >> HEIGHT)
        width = tile_width(tile_level, at[1], self.size)
        offset = first % WIDTH
        if offset + (1 << r) > width:
            raise IntegrityError(f"node ({level}, {index}) is not complete in a tree of size "
                                 f"{self.size}")
        data = self.tiles.get(at)
        if data is None:
            data = self.read(tile_level, at[1], width)
            if len(data) != width * HASH_SIZE:
                raise IntegrityError(f"{tile_path(tile_level, at[1], width)} has {len(data)} "
                                     f"bytes, not {width * HASH_SIZE}")
            self.tiles[at] = data
        hashes = [data[i * HASH_SIZE:(i + 1) * HASH_SIZE] for i in range(offset, offset + (1 << r))]
        return fold(hashes)


def root(size: int, read: TileReader) -> bytes:
    """The root of the tree of ``size`` leaves, from the tiles ``read`` serves: the perfect
    subtrees along the binary decomposition of ``size``, folded right to left."""
    nodes = _Nodes(size, read)
    return proof.root_from([nodes.node(*node) for node in proof.root_nodes(size)])


def consistency_proof(size1: int, size2: int, read: TileReader) -> list[bytes]:
    """The RFC 9162 consistency proof from ``size1`` to ``size2`` (``0 < size1 <= size2``),
    computed from the tiles of the tree of ``size2`` as a tiled log's client does."""
    nodes = _Nodes(size2, read)
    wanted = proof.consistency_nodes(size1, size2)
    return wanted.rehash([nodes.node(*node) for node in wanted.ids])
