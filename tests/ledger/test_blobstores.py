"""One contract for every evidence store, run over the file vault and an S3 bucket.

The bucket is served by moto's ``ThreadedMotoServer`` on 127.0.0.1, started in a child process:
the store talks real HTTP to it through boto3 (no in-process patching), and the memory a test
measures is the store's alone, not the server's copy of the bytes.

The contract (``affidavit.ledger.base``): an added file is invisible until ``place``; ``undo``
removes only what this batch stored; ``close`` leaves no staging behind; what was stored before
stays; an absent blob is ``NotFoundError``; a store that cannot be reached is one line of
``LedgerUnavailable``, never a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from affidavit.errors import IntegrityError, LedgerUnavailable, NotFoundError, UsageError
from affidavit.ledger.blobs import FileBlobStore
from affidavit.ledger.blobstores import open_blobs
from affidavit.ledger.s3_blobs import S3BlobStore
from tests.helpers import Home, sha256_hex

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

class Raw:
    """What a store holds, looked at directly: every name (staging included) and raw writes."""

    def __init__(self, store: Any, names: Callable[[], list[str]],
                 plant: Callable[[str, bytes], None], final: Callable[[str], str]) -> None:
        self.store = store
        self.names = names
        self.plant = plant
        self.final = final


@pytest.fixture(params=["file", "s3"])
def raw(request: pytest.FixtureRequest, tmp_path: Path) -> Raw:
    if request.param == "file":
        root = tmp_path / "vault"
        store = FileBlobStore(str(root))

        def file_names() -> list[str]:
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) \
                if root.exists() else []

        def file_plant(digest: str, data: bytes) -> None:
            path = root / digest[:2] / digest[2:]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        return Raw(store, file_names, file_plant, lambda d: f"{d[:2]}/{d[2:]}")
    made = request.getfixturevalue("bucket")
    s3 = S3BlobStore(f"s3://{made.name}/team/evidence")

    def s3_names() -> list[str]:
        return sorted(o.key for o in made.objects.all())

    def s3_plant(digest: str, data: bytes) -> None:
        made.put_object(Key=s3._path(digest), Body=data)

    return Raw(s3, s3_names, s3_plant, s3._path)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_bytes(b"evidence bytes\n")
    return path


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_an_added_file_is_invisible_until_placed_then_readable(raw: Raw, source: Path) -> None:
    batch = raw.store.incoming()
    digest, size = batch.add(source)
    assert (digest, size) == (sha256_hex(source.read_bytes()), source.stat().st_size)
    assert not raw.store.has(digest)
    assert raw.final(digest) not in raw.names()
    batch.place()
    assert raw.store.has(digest)
    with raw.store.open(digest) as fh:
        assert fh.read() == source.read_bytes()
    assert raw.store.read_verified(digest) == source.read_bytes()
    batch.close()
    assert raw.names() == [raw.final(digest)]  # no staging left, the blob stays


def test_an_empty_file_is_stored_too(raw: Raw, tmp_path: Path) -> None:
    batch = raw.store.incoming()
    digest, size = batch.add(_file(tmp_path, "empty", b""))
    assert (digest, size) == (sha256_hex(b""), 0)
    batch.place()
    batch.close()
    assert raw.store.read_verified(digest) == b""
    assert raw.names() == [raw.final(digest)]


def test_close_without_place_leaves_nothing(raw: Raw, tmp_path: Path, source: Path) -> None:
    batch = raw.store.incoming()
    digest, _ = batch.add(source)
    batch.add(source)  # the same bytes twice
    batch.add(_file(tmp_path, "other.txt", b"other\n"))
    assert raw.names()  # staged somewhere
    batch.close()
    assert raw.names() == []
    assert not raw.store.has(digest)


def test_undo_removes_only_what_this_batch_stored(raw: Raw, tmp_path: Path,
                                                  source: Path) -> None:
    first = raw.store.incoming()
    old, _ = first.add(source)
    first.place()
    first.close()
    second = raw.store.incoming()
    assert second.add(source)[0] == old
    new, _ = second.add(_file(tmp_path, "new.txt", b"new bytes\n"))
    second.place()
    assert raw.store.has(new)
    second.undo()
    second.close()
    assert raw.names() == [raw.final(old)]
    assert raw.store.read_verified(old) == source.read_bytes()
    assert not raw.store.has(new)


def test_an_absent_blob_is_not_found(raw: Raw) -> None:
    digest = "ab" * 32
    assert not raw.store.has(digest)
    with pytest.raises(NotFoundError, match=digest):
        raw.store.open(digest)


def test_a_big_file_streams_through_with_bounded_memory(raw: Raw, tmp_path: Path) -> None:
    size = 48 << 20  # past what s3transfer holds at once (about 28 MB), so a bound shows
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        for n in range(size >> 20):
            out.write(bytes([n]) * (1 << 20))
    expected = sha256_hex(big.read_bytes())
    raw.store.has(expected)  # boto3's client and service model are made once, not per file
    tracemalloc.start()
    try:
        batch = raw.store.incoming()
        digest, got = batch.add(big)
        batch.place()
        batch.close()
        hashed = __import__("hashlib").sha256()
        with raw.store.open(digest) as fh:
            while chunk := fh.read(1 << 20):
                hashed.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (digest, got) == (expected, size)
    assert hashed.hexdigest() == expected
    assert peak < size * 0.75, f"peak {peak} bytes for a {size}-byte file"


# --- S3 only: what a rename gives the file vault for free, the bucket must refuse itself ---


@pytest.fixture
def s3(bucket: Any) -> S3BlobStore:
    return S3BlobStore(f"s3://{bucket.name}/p")


def test_a_stored_blob_of_the_right_size_is_kept_not_rewritten(
    s3: S3BlobStore, bucket: Any, source: Path
) -> None:
    digest = sha256_hex(source.read_bytes())
    planted = b"X" * source.stat().st_size  # other bytes under the same name, same size
    bucket.put_object(Key=s3._path(digest), Body=planted)
    batch = s3.incoming()
    batch.add(source)
    batch.place()
    batch.undo()  # not this batch's: stays
    batch.close()
    assert bucket.Object(s3._path(digest)).get()["Body"].read() == planted
    assert sorted(o.key for o in bucket.objects.all()) == [s3._path(digest)]


def test_a_stored_blob_of_another_size_is_refused_and_kept(
    s3: S3BlobStore, bucket: Any, source: Path
) -> None:
    digest = sha256_hex(source.read_bytes())
    bucket.put_object(Key=s3._path(digest), Body=b"short")
    batch = s3.incoming()
    batch.add(source)
    with pytest.raises(IntegrityError, match="refusing to write over it") as caught:
        batch.place()
    batch.undo()
    batch.close()
    assert "\n" not in caught.value.diagnostics()
    assert bucket.Object(s3._path(digest)).get()["Body"].read() == b"short"
    assert sorted(o.key for o in bucket.objects.all()) == [s3._path(digest)]


def test_a_blob_stored_by_another_writer_after_the_check_is_not_overwritten(
    s3: S3BlobStore, bucket: Any, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the conditional copy exists for: the blob appears between HEAD and copy."""
    digest = sha256_hex(source.read_bytes())
    theirs = b"T" * source.stat().st_size
    batch = s3.incoming()
    batch.add(source)
    real = s3._stored_size
    seen: list[str] = []

    def racing(key: str) -> int | None:
        if not seen:
            seen.append(key)
            bucket.put_object(Key=key, Body=theirs)  # another writer, just after our HEAD
            return None
        return real(key)

    monkeypatch.setattr(s3, "_stored_size", racing)
    batch.place()
    batch.undo()  # theirs, not ours: kept
    batch.close()
    assert bucket.Object(s3._path(digest)).get()["Body"].read() == theirs


def test_keys_are_content_addressed_under_the_prefix(
    s3: S3BlobStore, bucket: Any, source: Path
) -> None:
    batch = s3.incoming()
    digest, _ = batch.add(source)
    assert [o.key.split("/")[:2] for o in bucket.objects.all()] == [["p", "incoming"]]
    batch.place()
    batch.close()
    assert [o.key for o in bucket.objects.all()] == [f"p/sha256/{digest[:2]}/{digest}"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("call", ["has", "open", "add"])
def test_an_endpoint_that_is_down_is_one_line_of_ledger_unavailable(
    s3_env: str, monkeypatch: pytest.MonkeyPatch, source: Path, call: str
) -> None:
    monkeypatch.setenv("AFFIDAVIT_S3_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = S3BlobStore("s3://gone-bucket/x")
    with pytest.raises(LedgerUnavailable) as caught:
        if call == "add":
            store.incoming().add(source)
        else:
            getattr(store, call)("ab" * 32)
    text = caught.value.diagnostics()
    assert "\n" not in text and "s3://gone-bucket" in text, text
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("call", ["has", "open", "add"])
def test_a_missing_bucket_is_one_line_of_ledger_unavailable(
    s3_env: str, source: Path, call: str
) -> None:
    store = S3BlobStore(f"s3://no-such-{uuid.uuid4().hex[:8]}/x")
    with pytest.raises(LedgerUnavailable, match="does not exist") as caught:
        if call == "add":
            store.incoming().add(source)
        else:
            getattr(store, call)("ab" * 32)
    assert "\n" not in caught.value.diagnostics()
    assert store.bucket in caught.value.message


# --- choosing a store by URL ---


def test_open_blobs_chooses_by_scheme(tmp_path: Path) -> None:
    file_store = open_blobs(f"file://{tmp_path}/vault")
    assert isinstance(file_store, FileBlobStore) and file_store.root == f"{tmp_path}/vault"
    assert open_blobs("file:///srv/a%20b/").root == "/srv/a b"  # type: ignore[attr-defined]
    s3_store = open_blobs("s3://my-bucket/a/b/")
    assert isinstance(s3_store, S3BlobStore)
    assert (s3_store.bucket, s3_store.prefix) == ("my-bucket", "a/b")
    assert isinstance(open_blobs("s3://my-bucket"), S3BlobStore)


@pytest.mark.parametrize("url", [
    "", "/srv/vault", "vault", "http://host/x", "sqlite:///x.db", "file://host/srv/x",
    "file:relative", "file:///", "file:///srv/x?mode=ro", "s3://", "s3://Bad_Bucket/x",
    "s3://bucket/a//b", "s3://bucket/../x", "s3://bucket/x#frag",
])
def test_open_blobs_refuses_other_forms_naming_the_accepted_ones(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        open_blobs(url)
    text = caught.value.diagnostics()
    assert repr(url) in text and "\n" not in text
    assert "file:///" in text or "s3://" in text or "bucket" in text, text


def test_a_file_store_never_imports_boto3(tmp_path: Path) -> None:
    code = ("import sys\nfrom affidavit.ledger.blobstores import open_blobs\n"
            f"open_blobs('file://{tmp_path}/v').incoming()\n"
            "import affidavit.ledger.sqlite\n"
            "assert not any(m.split('.')[0] in ('boto3', 'botocore') for m in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- end to end: the SQLite ledger with its evidence in a bucket ---


@pytest.fixture
def s3_ledger(home: Home, bucket: Any) -> Iterator[Any]:
    from affidavit.ledger.sqlite import SQLiteLedger

    handle = SQLiteLedger(home.url, blobs=open_blobs(f"s3://{bucket.name}/ledger"))
    yield handle
    handle.close()


def test_a_sqlite_ledger_keeps_its_evidence_in_s3_and_still_verifies(
    s3_ledger: Any, bucket: Any, home: Home, tmp_path: Path
) -> None:
    from affidavit.api import evidence, ledgers, record, verification
    from tests.helpers import attest_generic

    report = _file(tmp_path, "report.xml", b"<testsuite tests='2'/>\n")
    log = _file(tmp_path, "log.txt", b"all good\n")
    record.create_flow(s3_ledger, name="demo")
    record.begin_trail(s3_ledger, flow="demo", name="t1")
    attest_generic(s3_ledger, flow="demo", trail="t1", name="unit", attachments=[report, log])
    digests = sorted(sha256_hex(p.read_bytes()) for p in (report, log))
    assert sorted(o.key for o in bucket.objects.all()) == [
        f"ledger/sha256/{d[:2]}/{d}" for d in digests]  # the finals, no staging
    assert not home.blobs.exists()  # nothing in a vault beside the database
    assert not any("ledger/" in f for f in s3_ledger.local_files())

    audit = verification.verify_ledger(s3_ledger, deep=True)
    assert audit["evidence"] == 2
    out = tmp_path / "pkg.zip"
    evidence.package(s3_ledger, out=out, flow="demo", trail="t1")
    checked = verification.verify_package(out, ledgers.public_key(s3_ledger))
    assert checked  # every entry, proof and evidence file of the package held

    bucket.Object(f"ledger/sha256/{digests[0][:2]}/{digests[0]}").delete()
    with pytest.raises(IntegrityError, match="not in the vault"):
        verification.verify_ledger(s3_ledger)


def test_a_failed_append_leaves_nothing_in_the_bucket(
    s3_ledger: Any, bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit fails after the blobs were placed (the last step before it): undone."""
    from affidavit.api import record
    from affidavit.ledger import s3_blobs
    from tests.helpers import attest_generic

    record.create_flow(s3_ledger, name="demo")
    record.begin_trail(s3_ledger, flow="demo", name="t1")
    size = s3_ledger.size()
    real = s3_blobs.Incoming.place

    def place_then_fail(self: s3_blobs.Incoming) -> None:
        real(self)
        assert self.store.has(sha256_hex(b"report\n"))  # placed, about to commit
        raise OSError("disk I/O error")

    monkeypatch.setattr(s3_blobs.Incoming, "place", place_then_fail)
    with pytest.raises(LedgerUnavailable, match="disk i/o error"):
        attest_generic(s3_ledger, flow="demo", trail="t1", name="unit",
                       attachments=[_file(tmp_path, "r.txt", b"report\n")])
    assert s3_ledger.size() == size
    assert list(bucket.objects.all()) == []


def test_a_file_that_fails_mid_upload_is_input_error_and_leaves_nothing(
    s3: S3BlobStore, bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read fails in s3transfer's thread, several parts in: the caller's input error, the
    same as from the file vault, and no object or open multipart upload stays behind."""
    from affidavit.errors import InputError

    big = _file(tmp_path, "big.bin", os.urandom(20 << 20))
    real, reads = os.readv, [0]

    def failing(fd: int, buffers: Any) -> int:
        reads[0] += 1
        if reads[0] > 3:
            raise OSError(5, "Input/output error")
        return real(fd, buffers)

    with monkeypatch.context() as patch, pytest.raises(InputError, match="input/output error"):
        patch.setattr(os, "readv", failing)
        s3.incoming().add(big)
    assert list(bucket.objects.all()) == []
    assert list(bucket.multipart_uploads.all()) == []
