"""``ledger.tiles`` against the examples the C2SP tlog-tiles text itself gives, and against a
naive RFC 6962 tree for roots and consistency proofs read back from tiles."""

from __future__ import annotations

import hashlib

import pytest

from affidavit.errors import InputError, IntegrityError
from affidavit.ledger import proof, tiles
from tests.mirror.conftest import mth


def _leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(count)]


def test_paths_are_the_specs() -> None:
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tiles.entries_path(1234067, 8) == "tile/entries/x001/x234/067.p/8"
    with pytest.raises(ValueError):
        tiles.tile_path(64, 0)


def _grow(count: int) -> tuple[tiles.TileBuilder, dict[str, bytes]]:
    builder, stored = tiles.TileBuilder(), {}
    for leaf in _leaves(count):
        for level, index, data in builder.append(leaf):
            stored[tiles.tile_path(level, index)] = data
    for level, index, width, data in builder.partial():
        stored[tiles.tile_path(level, index, width)] = data
    return builder, stored


def test_a_tree_of_70000_is_the_specs_example() -> None:
    # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile,
    # one partial level 1 tile of width 17, and one partial level 2 tile of width 1"
    _, stored = _grow(70000)
    level0 = [p for p in stored if p.startswith("tile/0/")]
    assert len([p for p in level0 if ".p/" not in p]) == 273
    assert [p for p in level0 if ".p/" in p] == ["tile/0/273.p/112"]
    assert sorted(p for p in stored if p.startswith("tile/1/")) == ["tile/1/000",
                                                                   "tile/1/001.p/17"]
    assert [p for p in stored if p.startswith("tile/2/")] == ["tile/2/000.p/1"]


def test_a_tree_of_256_is_the_specs_example() -> None:
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1"
    _, stored = _grow(256)
    assert sorted(stored) == ["tile/0/000", "tile/1/000.p/1"]
    assert stored["tile/1/000.p/1"] == mth(_leaves(256))


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 1000, 65537])
def test_root_and_consistency_from_tiles(size: int) -> None:
    builder, stored = _grow(size)
    leaves = _leaves(size)

    def read(level: int, index: int, width: int) -> bytes:
        return stored[tiles.tile_path(level, index, width)]

    assert tiles.root(size, read) == mth(leaves) == builder.root()
    for old in {1, size // 3 or 1, size - 1 or 1, size}:
        proof.verify_consistency(old, size, tiles.consistency_proof(old, size, read),
                                 mth(leaves[:old]), mth(leaves))


def test_bundles_frame_with_a_big_endian_u16() -> None:
    data = tiles.encode_bundle([b"ab", b"", b"c" * 300], 0)
    assert data == b"\x00\x02ab\x00\x00\x01\x2c" + b"c" * 300
    assert tiles.parse_bundle(data, 3, "here") == [b"ab", b"", b"c" * 300]
    with pytest.raises(IntegrityError):
        tiles.parse_bundle(data[:-1], 3, "here")
    with pytest.raises(IntegrityError):
        tiles.parse_bundle(data, 2, "here")
    with pytest.raises(InputError):
        tiles.encode_bundle([b"x" * 65536], 7)
    assert len(tiles.encode_bundle([b"x" * 65535], 0)) == 65537
