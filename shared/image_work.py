"""One small pool for decoding and re-encoding pictures, off the request threads.

Pillow releases the GIL while it decodes, so a few pictures decoded on request
threads at once take every core, and every other request waits for a CPU. Here
at most `workers` pictures are decoded at a time (one core by default) and at most
`queue` more wait their turn; anything beyond is refused at once with ImageBusy
(503 + Retry-After, which a kiosk's outbox retries), never queued without bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from shared.rate_limit import RateLimited

T = TypeVar("T")


class ImageBusy(RateLimited):
    """图片处理繁忙，请稍后再试 · The console is busy with pictures: try again shortly."""

    code = "busy"
    http_status = 503

    template = (
        "控制台正在处理其他图片，请 {seconds} 秒后再试 · The console is busy with other "
        "pictures: try again in {seconds} s."
    )


class ImagePool:
    def __init__(self, workers: int = 1, queue: int = 4):
        if workers < 1 or queue < 0:
            raise ValueError("an image pool needs 1 or more workers and a queue of 0 or more")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-work")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._lock = threading.Lock()
        self._seconds = 1.0  # a moving average of one picture's work
        self.capacity = workers + queue

    def retry_after(self) -> float:
        """About how long until a slot frees: the whole queue's work at the average pace."""
        with self._lock:
            return self._seconds * self.capacity / self.workers

    def run(self, work: Callable[..., T], *args) -> T:
        """`work(*args)` on a pool thread; this thread waits for its result. ImageBusy
        at once when every slot is taken (nothing was started)."""
        if not self._slots.acquire(blocking=False):
            raise ImageBusy(self.retry_after())
        try:
            future = self._executor.submit(self._timed, work, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        return future.result()

    def _timed(self, work: Callable[..., T], *args) -> T:
        started = time.monotonic()
        try:
            return work(*args)
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._seconds = 0.8 * self._seconds + 0.2 * took

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
