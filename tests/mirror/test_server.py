"""``affidavit mirror`` onto ``affidavit server`` (a real uvicorn on 127.0.0.1 serving its
own SQLite file), checked by reading that file with sqlite3 behind the server's back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers import Cli, assert_error, ok
from tests.mirror.conftest import Source, entries_of, flip_entry, run
from tests.server.threaded import ThreadedServer


def test_copy_to_a_server(cli: Cli, source: Source, tmp_path: Path,
                          attach: Callable[[bytes], str]) -> None:
    digest = attach(b"provisioning request\n")
    source.grow(120)
    served = tmp_path / "served.db"
    with ThreadedServer(f"sqlite:///{served}") as server:
        first = run(cli, "--from", source.url, "--to", server.url)
        assert entries_of(served) == source.entries()
        assert first["evidence"] == 1 and first["copied"] == len(source.entries())
        assert (tmp_path / "served.db.blobs" / digest[:2] / digest[2:]).read_bytes() == \
            b"provisioning request\n"
        kept = first["source_checkpoint_evidence"]
        assert (tmp_path / "served.db.blobs" / kept[:2] / kept[2:]).read_text() == \
            source.checkpoint()
        ok(cli("verify", "ledger", "--ledger", server.url))

        source.grow(3)
        second = run(cli, "--from", source.url, "--to", server.url)
        assert second["copied"] == 3 and entries_of(served) == source.entries()

        size = len(source.entries())
        flip_entry(served, 7, leaf_too=True)
        source.grow(1)
        assert_error(cli("mirror", "--from", source.url, "--to", server.url), 3,
                     f"copy {server.url}", f"size {size}")
        assert len(entries_of(served)) == size


def test_an_unreachable_server_is_one_line(cli: Cli, source: Source) -> None:
    source.grow(1)
    assert_error(cli("mirror", "--from", source.url, "--to", "http://127.0.0.1:9"), 3,
                 "127.0.0.1:9")
