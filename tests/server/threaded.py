"""``affidavit server``'s app under a real uvicorn in a thread of the test process: cheaper than
a process per test for the CLI suite's remote runs, and the same HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self


class ThreadedApp:
    """``with ThreadedApp(app) as s:`` serves an ASGI app at ``s.url`` until the block ends."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError(f"the threaded {type(self).__name__} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class ThreadedServer(ThreadedApp):
    """``with ThreadedServer(ledger_url) as s:`` serves at ``s.url`` until the block ends."""

    def __init__(self, ledger_url: str, app: Any = None, **options: Any) -> None:
        """``options`` go to ``create_app`` (``evidence=``, ``tokens=``)."""
        from affidavit.server.app import create_app

        self.ledger_url = ledger_url
        self.requests = 0

        def counted(record: dict[str, Any]) -> None:  # stderr is the CLI's here: not logged
            self.requests += 1

        super().__init__(app or create_app(ledger_url, log=counted, **options))
