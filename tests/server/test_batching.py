"""The server's sequencer: appends that wait while one commits are integrated together, in
one transaction under one checkpoint, each answered with where it went and the proofs of it."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from typing import Any

import requests

from affidavit import canonical
from tests.helpers import Home
from tests.ledger import naive_tree
from tests.server.conftest import Server
from tests.server.test_remote import Cli, _entries, _head, _post_append

WRITERS = 8


def _checkpoints(db: Any) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])
    finally:
        conn.close()


def test_appends_waiting_on_a_commit_share_the_next_one(cli: Cli, server: Server,
                                                        home: Home) -> None:
    """Eight writers post while another process holds the write lock: the first waits on it
    alone, the seven behind it land in one batch; every answer says where its entry went and
    proves it, checked here against a tree built from the log by the naive reference."""
    assert cli("create", "flow", "base").code == 0
    flow = json.loads(_entries(server, 0, 1)[0])
    posted = []
    for n in range(WRITERS):
        flow["record"]["name"] = f"writer-{n}"
        posted.append(canonical.dumps(flow))
    head = _head(server)
    before = _checkpoints(home.db)
    answers: dict[int, requests.Response] = {}
    blocker = sqlite3.connect(home.db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")

    def write(n: int) -> None:
        answers[n] = _post_append(server, [posted[n]], head)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    time.sleep(1.5)  # every request admitted and waiting on the sequencer
    blocker.execute("ROLLBACK")
    blocker.close()
    for thread in threads:
        thread.join(30)
    assert all(answer.status_code == 200 for answer in answers.values()), [
        a.text for a in answers.values()]
    size = head[0] + WRITERS
    log = _entries(server, 0, size)
    assert sorted(log[head[0]:]) == sorted(posted)
    assert _checkpoints(home.db) - before < WRITERS // 2  # not one commit per writer
    root = naive_tree.mth(log)
    for n, answer in answers.items():
        body = answer.json()
        first = body["first"]
        assert log[first] == posted[n]
        assert body["checkpoint"].split("\n")[1:3] == [
            str(body["size"]), base64.b64encode(naive_tree.mth(log[:body["size"]])).decode()]
        at = body["size"]
        assert base64.b64decode(body["inclusion"][str(first)]) == \
            b"".join(naive_tree.path(first, log[:at]))
        assert [base64.b64decode(h) for h in body["consistency"]] == \
            naive_tree.proof(head[0], log[:at])
    assert naive_tree.mth(log[:size]) == root


def test_a_retry_posted_while_the_first_waits_lands_once(cli: Cli, server: Server,
                                                         home: Home) -> None:
    """The same append posted twice while the first copy is still queued (a client that
    timed out and retried): one entry, both answered with its place."""
    assert cli("create", "flow", "base").code == 0
    flow = json.loads(_entries(server, 0, 1)[0])
    flow["record"]["name"] = "retried"
    entry = canonical.dumps(flow)
    head = _head(server)
    answers: list[requests.Response] = []
    blocker = sqlite3.connect(home.db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    threads = [threading.Thread(target=lambda: answers.append(
        _post_append(server, [entry], head))) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    blocker.execute("ROLLBACK")
    blocker.close()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["first"] for a in answers} == {head[0]}
    assert len(_entries(server, 0, head[0] + 1)) == head[0] + 1
    state = requests.get(f"{server.url}/api/v1/ledger/state", timeout=10).json()
    assert state["size"] == head[0] + 1
