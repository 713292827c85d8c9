"""Read-only console calls off the UI thread: settings, unit check, visitor lookup.

One daemon thread with its own ConsoleClient (short timeouts: a person is
waiting) takes calls from a queue and hands each Result to `deliver`, which
the app makes run on Kivy's main thread. Writes never come here: they go
through the outbox and the SyncWorker.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from kiosk.client import ConsoleClient, Result

log = logging.getLogger(__name__)

QUERY_CONNECT_TIMEOUT = 2.0
QUERY_READ_TIMEOUT = 4.0
ALLOWED = (
    "get_settings",
    "unit_exists",
    "lookup_visitor",
    "lookup_ticket",
    "get_announcements",
    "get_broadcast",
    "fetch_announcement_image",
    # POST redeem with confirm false: changes nothing but an audit line (whom a pass is for)
    "check_pass",
)

_STOP = object()


class QueryWorker:
    def __init__(
        self,
        client: ConsoleClient,
        deliver: Callable[[Callable[[], None]], None],
    ):
        self.client = client
        self.deliver = deliver
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_console(cls, base_url: str, token: str | None, deliver) -> QueryWorker:
        client = ConsoleClient(
            base_url,
            token,
            connect_timeout=QUERY_CONNECT_TIMEOUT,
            read_timeout=QUERY_READ_TIMEOUT,
        )
        return cls(client, deliver)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kiosk-queries", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, call: str, args: tuple, on_result: Callable[[Result], None]) -> None:
        """Run client.<call>(*args) on the worker; on_result(result) runs via deliver."""
        if call not in ALLOWED:
            raise ValueError(f"{call} is not a read-only query")
        self._queue.put((call, args, on_result))

    def _run(self) -> None:
        try:
            while True:
                job = self._queue.get()
                if job is _STOP:
                    return
                call, args, on_result = job
                try:
                    result = getattr(self.client, call)(*args)
                except Exception as error:  # a failed read must not kill the worker
                    log.exception("kiosk query %s failed", call)
                    result = Result("retryable", message=f"query failed: {error}")
                self.deliver(lambda on_result=on_result, result=result: on_result(result))
        finally:
            self.client.close()
