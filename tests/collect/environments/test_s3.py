"""``snapshot s3`` against moto's server through real boto3 calls: a bucket's fingerprint is
the directory fingerprint of the same files written locally, computed by the code that
fingerprints directories, across pages of ListObjectsV2."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from affidavit.collect.environments import aws as aws_clients
from affidavit.collect.environments import s3
from affidavit.collect.fingerprint.artifact import fingerprint
from affidavit.errors import InputError, NotFoundError, ProviderError, UsageError
from tests.collect.environments.aws_server import (  # noqa: F401 - fixtures
    REGION,
    Account,
    aws_env_fixture,
    aws_fixture,
)

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

SITE = {
    "index.html": b"<h1>shop</h1>\n",
    "about.html": b"<p>about</p>\n",
    "css/site.css": b"body { margin: 0 }\n",
    "css/print/a4.css": b"@page { size: A4 }\n",
    "img/logo.png": bytes(range(256)) * 13_000,  # over three 1 MiB chunks
    "img/empty.gif": b"",
    "logs/2026-01-01.log": b"GET /\n",
    "caf\u00e9/men\u00fc.txt": "cr\u00e8me".encode(),
    "a.b/z": b"z",
    "a/z": b"walked in byte order of names: a, a.b, about.html",
}


@pytest.fixture
def client(aws: Account) -> Any:
    return aws.client("s3")


@pytest.fixture
def bucket(client: Any) -> str:
    name = f"site-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def put(client: Any, bucket: str, files: dict[str, bytes], prefix: str = "") -> None:
    for key, data in files.items():
        client.put_object(Bucket=bucket, Key=prefix + key, Body=data)


def local(tmp_path: Path, files: dict[str, bytes], name: str = "local") -> str:
    """The directory fingerprint of ``files`` written under a fresh directory."""
    root = tmp_path / name
    root.mkdir()
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return fingerprint(root, "dir")


def only(files: dict[str, bytes], keep: Any) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if keep(k)}


def test_a_bucket_is_fingerprinted_as_the_directory_of_its_files(
        client: Any, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3, "PAGE_SIZE", 3)
    put(client, bucket, SITE)
    pages: list[int] = []
    client.meta.events.register("after-call.s3.ListObjectsV2",
                                lambda parsed, **_: pages.append(len(parsed["Contents"])))
    assert s3.running(client, bucket=bucket) == [
        {"name": bucket, "fingerprint": local(tmp_path, SITE)}]
    assert pages == [3, 3, 3, 1]


def test_a_prefix_is_a_folder(client: Any, bucket: str, tmp_path: Path) -> None:
    put(client, bucket, SITE, prefix="releases/v2/")
    put(client, bucket, {"x": b"older"}, prefix="releases/v2-old/")
    put(client, bucket, {"top.html": b"elsewhere"})
    expected = [{"name": f"{bucket}/releases/v2", "fingerprint": local(tmp_path, SITE)}]
    assert s3.running(client, bucket=bucket, prefix="releases/v2") == expected
    assert s3.running(client, bucket=bucket, prefix="/releases/v2/") == expected


def test_include_and_exclude_are_regular_expressions_over_keys(
        client: Any, bucket: str, tmp_path: Path) -> None:
    put(client, bucket, SITE)
    html = local(tmp_path, only(SITE, lambda k: k.endswith(".html")), "html")
    assert s3.running(client, bucket=bucket, include=r"\.html$")[0]["fingerprint"] == html
    no_logs = local(tmp_path, only(SITE, lambda k: not k.startswith("logs/")), "no-logs")
    assert s3.running(client, bucket=bucket, exclude="^logs/")[0]["fingerprint"] == no_logs
    # searched in the full key, the prefix included
    put(client, bucket, SITE, prefix="v3/")
    assert s3.running(client, bucket=bucket, prefix="v3", include=r"^v3/.*\.html$"
                      )[0]["fingerprint"] == html


def test_include_and_exclude_together_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--include or --exclude, not both"):
        s3.running(object(), bucket="b", include="a", exclude="b")


@pytest.mark.parametrize(("flags", "message"), [
    ({"bucket": ""}, "is not a bucket name"),
    ({"bucket": "a/b"}, "is not a bucket name"),
    ({"bucket": "b", "include": "("}, "--include '\\(' is not a regular expression"),
    ({"bucket": "b", "prefix": "a/../b"}, "--prefix 'a/../b' has an empty, '.' or '..'"),
])
def test_flags_are_checked_before_any_call(flags: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        s3.running(object(), **flags)


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a//b", "a/./b", "a/../../b"])
def test_a_key_that_is_no_path_inside_the_directory_is_refused(
        client: Any, bucket: str, key: str) -> None:
    put(client, bucket, {"index.html": b"ok", key: b"x"})
    with pytest.raises(InputError, match=f"key '{key}' is not a path inside"):
        s3.running(client, bucket=bucket)
    # unless it is not selected: then it is never written anywhere
    assert s3.running(client, bucket=bucket, include=r"^index\.html$")


def test_folder_markers_are_directories(client: Any, bucket: str, tmp_path: Path) -> None:
    put(client, bucket, {"site/": b"", "site/index.html": b"hi", "site/empty/": b""})
    root = tmp_path / "site"
    (root / "empty").mkdir(parents=True)
    (root / "index.html").write_bytes(b"hi")
    assert s3.running(client, bucket=bucket, prefix="site") == [
        {"name": f"{bucket}/site", "fingerprint": fingerprint(root, "dir")}]
    assert fingerprint(root, "dir") != local(tmp_path, {"index.html": b"hi"})


def test_a_folder_marker_with_content_is_refused(client: Any, bucket: str) -> None:
    put(client, bucket, {"docs/": b"not empty"})
    with pytest.raises(InputError, match="key 'docs/' ends in '/' but holds 9 bytes"):
        s3.running(client, bucket=bucket)


def test_an_object_and_a_folder_of_one_name_are_refused(client: Any, bucket: str) -> None:
    put(client, bucket, {"app": b"a file", "app/main.js": b"and a folder"})
    with pytest.raises(InputError, match="cannot be written as a file"):
        s3.running(client, bucket=bucket)


def test_an_empty_bucket_is_an_empty_directory(client: Any, bucket: str) -> None:
    assert s3.running(client, bucket=bucket) == [{"name": bucket, "fingerprint": EMPTY}]
    put(client, bucket, {"logs/a.log": b"x"})
    assert s3.running(client, bucket=bucket, exclude="^logs/") == [
        {"name": bucket, "fingerprint": EMPTY}]


def test_the_download_is_capped(client: Any, bucket: str,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    put(client, bucket, {"a": b"12345", "b": b"67890"})
    monkeypatch.setattr(s3, "MAX_BYTES", 9)
    with pytest.raises(InputError, match="more than 9 bytes"):
        s3.running(client, bucket=bucket)
    monkeypatch.setattr(s3, "MAX_BYTES", 10)
    assert s3.running(client, bucket=bucket)


def test_nothing_is_left_on_disk(client: Any, bucket: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    put(client, bucket, {"a": b"1", "../b": b"2"})
    s3.running(client, bucket=bucket, prefix=None, exclude=r"\.\.")
    with pytest.raises(InputError):
        s3.running(client, bucket=bucket)
    assert os.listdir(tmp_path) == []


def test_an_object_replaced_while_read_fails_the_snapshot(client: Any, bucket: str,
                                                          aws: Account) -> None:
    put(client, bucket, {"index.html": b"v1"})
    other = aws.client("s3")
    replaced: list[str] = []

    def deploy_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if not replaced:
            replaced.append(params["Key"])
            other.put_object(Bucket=bucket, Key=params["Key"], Body=b"v2")

    client.meta.events.register("provide-client-params.s3.GetObject", deploy_meanwhile)
    with pytest.raises(ProviderError, match="object 'index.html' changed while the snapshot "
                                            "read the bucket"):
        s3.running(client, bucket=bucket)
    assert replaced == ["index.html"]


def test_an_unknown_bucket_is_not_found(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        s3.running(client, bucket="no-such-bucket-here")
    assert caught.value.message == ("s3://no-such-bucket-here/: NoSuchBucket: The specified "
                                    "bucket does not exist")


def test_an_empty_prefix_is_not_found(client: Any, bucket: str) -> None:
    put(client, bucket, {"releases/v1/index.html": b"v1"})
    with pytest.raises(NotFoundError, match=f"s3://{bucket}/releases/v2/: no objects"):
        s3.running(client, bucket=bucket, prefix="releases/v2")


def test_no_credentials_is_a_provider_error(aws: Account,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ProviderError, match="s3://b-b-b/: no usable AWS credentials") as caught:
        s3.running(aws_clients.client("s3"), bucket="b-b-b")
    assert caught.value.exit_code == 3


def test_the_client_uses_path_addressing_on_a_custom_endpoint(aws: Account) -> None:
    config = aws_clients.client("s3").meta.config
    assert config.s3 == {"addressing_style": "path"}
    assert config.retries["mode"] == "standard"
