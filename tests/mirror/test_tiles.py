"""``affidavit mirror`` to ``s3://bucket/prefix`` (moto over real HTTP): a static C2SP
tlog-tiles log, read back here the way the spec describes it (https://c2sp.org/tlog-tiles) by
code of the test's own, never by the module that wrote it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import Cli, assert_error
from tests.mirror.conftest import Source, leaf, mth, run


def index_path(n: int) -> str:
    """The spec's ``<N>``: zero-padded 3-digit elements, all but the last prefixed by ``x``."""
    text = f"{n:03d}"
    while len(text) % 3:
        text = "0" + text
    groups = [text[i:i + 3] for i in range(0, len(text), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + groups[-1:])


def test_index_path_is_the_spec_example() -> None:
    assert index_path(1234067) == "x001/x234/067"


def get(bucket: Any, key: str) -> bytes:
    return bytes(bucket.Object(key).get()["Body"].read())


def read_log(bucket: Any, prefix: str) -> tuple[list[str], list[bytes], list[bytes]]:
    """The checkpoint's lines, every entry (from the bundles) and every leaf hash (from the
    level-0 tiles) of the tiled log under ``prefix``, as a spec-following client reads them."""
    note = get(bucket, f"{prefix}/checkpoint").decode()
    body = note.split("\n\n")[0].split("\n")
    size = int(body[1])
    entries: list[bytes] = []
    hashes: list[bytes] = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        suffix = "" if width == 256 else f".p/{width}"
        bundle = get(bucket, f"{prefix}/tile/entries/{index_path(n)}{suffix}")
        pos = 0
        while pos < len(bundle):
            length = int.from_bytes(bundle[pos:pos + 2], "big")
            entries.append(bundle[pos + 2:pos + 2 + length])
            pos += 2 + length
        tile = get(bucket, f"{prefix}/tile/0/{index_path(n)}{suffix}")
        assert len(tile) == 32 * width
        hashes += [tile[i:i + 32] for i in range(0, len(tile), 32)]
    assert len(entries) == size
    return body, entries, hashes


def test_tiles_are_the_source_and_incremental(
        cli: Cli, source: Source, bucket: Any, attach: Callable[[bytes], str]) -> None:
    bucket.Versioning().enable()  # every write a new version: what a run rewrote shows
    digest = attach(b"shell session\n")
    source.grow(300)
    url = f"s3://{bucket.name}/log"
    first = run(cli, "--from", source.url, "--to", url)
    assert first["evidence"] == 1

    obj = bucket.Object("log/checkpoint")
    assert obj.get()["ContentType"] == "text/plain; charset=utf-8"
    assert get(bucket, "log/checkpoint").decode() == source.checkpoint()  # the source's note
    body, entries, hashes = read_log(bucket, "log")
    assert entries == source.entries()
    assert hashes == [leaf(e) for e in entries]
    root = base64.b64decode(body[2])
    assert mth(hashes) == root
    # 303 entries: one full level-0 tile, a partial one of 47, and a level-1 tile of width 1
    assert len(entries) == 303
    assert get(bucket, "log/tile/1/000.p/1") == mth(hashes[:256])
    assert get(bucket, f"log/evidence/sha256/{digest[:2]}/{digest}") == b"shell session\n"

    source.grow(5)
    second = run(cli, "--from", source.url, "--to", url)
    assert second["copied"] == 5 and second["verified_before"] == 303
    body, entries, hashes = read_log(bucket, "log")
    assert entries == source.entries() and mth(hashes) == base64.b64decode(body[2])
    # only what is new was written: the full bundle and tile were not rewritten
    for key in ("log/tile/entries/000", "log/tile/0/000"):
        assert len(list(bucket.object_versions.filter(Prefix=key))) == 1
    assert get(bucket, "log/tile/0/001.p/52") == b"".join(hashes[256:])


@pytest.mark.parametrize("key", ["log/tile/0/000", "log/tile/entries/000",
                                 "log/tile/0/000.p/5"])
def test_a_tile_edited_is_caught(cli: Cli, source: Source, bucket: Any, key: str) -> None:
    source.grow(261 if key != "log/tile/0/000.p/5" else 5)
    url = f"s3://{bucket.name}/log"
    run(cli, "--from", source.url, "--to", url)
    published = get(bucket, "log/checkpoint")
    data = bytearray(get(bucket, key))
    data[-3] ^= 0x01
    bucket.put_object(Key=key, Body=bytes(data))
    source.grow(3)
    assert_error(cli("mirror", "--from", source.url, "--to", url), 3, f"copy {url}")
    assert get(bucket, "log/checkpoint") == published  # nothing more was published


def test_a_prefix_holding_other_objects_is_refused(cli: Cli, source: Source,
                                                   bucket: Any) -> None:
    bucket.put_object(Key="log/tile/0/000.p/1", Body=b"\0" * 32)
    source.grow(2)
    assert_error(cli("mirror", "--from", source.url, "--to", f"s3://{bucket.name}/log"), 3,
                 "no checkpoint")


def test_an_entry_too_long_for_a_bundle_is_one_line(cli: Cli, source: Source,
                                                    bucket: Any) -> None:
    from affidavit.api import record

    source.grow(1)
    record.begin_trail(source.ledger, flow="demo", name="long", description="d" * 70000)
    assert_error(cli("mirror", "--from", source.url, "--to", f"s3://{bucket.name}/log"), 2,
                 "entry 1", "65535")


def test_a_missing_bucket_is_one_line(cli: Cli, source: Source, s3_env: str) -> None:
    source.grow(1)
    assert_error(cli("mirror", "--from", source.url, "--to", "s3://no-such-bucket-here/x"), 3,
                 "no-such-bucket-here", "does not exist")
