"""Serving the console: uvicorn's event loop in front, the Flask app behind a thread pool.

Why (README "Connection model"): under a threaded WSGI server every kiosk
long-poll and every staff event stream held a worker thread while it waited, so
27 kiosks + 5 staff tabs stopped a 32-thread console. Here one event loop holds
every connection; only work runs on threads:

- ordinary requests (pages, kiosk writes, SQLite, argon2, PDF) go to the Flask
  app on a bounded pool of THREADS threads (a2wsgi's WSGI-to-ASGI adapter);
- `GET /api/v1/feed` and `GET /queue/stream` are answered by Flask too (auth,
  validation, the first read), then *wait* in the loop, holding no thread: a
  publish from any thread wakes them through `LiveHub.listen`;
- a long-poll is woken only when its own kiosk has news: one shared query per
  publish finds which kiosks got events, so a help call does not make 500
  kiosks re-read the database;
- near CONNECTION_CAPACITY new long-polls are answered at once with Retry-After.

Several such processes can serve one building: each wakes its own waiters, and
hears the others' publishes through the live signal's watcher, started and stopped
here with the server (console/live.py, console/live_signal.py). The background
jobs run in whichever process holds their lease (console/background.py).
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import uvicorn
from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

from console import live
from console.background import BackgroundJobs
from console.db import database_path
from shared import feed
from shared.db import connect

FEED_PATH = "/api/v1/feed"
STREAM_PATH = "/queue/stream"
FRONT_KEY = "lobbydesk.front"  # environ key: the view answers at once, the loop waits
EARLY_RETRY_SECONDS = 10  # a kiosk answered early comes back after this long
FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")


class _Server(uvicorn.Server):
    """uvicorn waits for open responses at shutdown: end ours first."""

    def __init__(self, config, on_shutdown):
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets=None):
        self._on_shutdown()
        await super().shutdown(sockets)


class LiveFront:
    """The ASGI app: the two waiting routes here, everything else to Flask's pool."""

    def __init__(self, app, threads: int):
        self.app = app
        self.hub = live.hub(app)
        self.connections = live.connections(app)
        self.wsgi = WSGIMiddleware(app, workers=threads)
        self.pool = self.wsgi.executor
        self.trusted_proxy = app.config.get("TRUSTED_PROXY")
        # The feed scanner: one thread, its own connection, one query per publish.
        self._scanner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-scan")
        self._scan_db = None
        self._scanned_upto = 0
        self._latest: dict[int, int] = {}  # kiosk id -> newest event id scanned
        self._feed_waiters: dict[int, set[asyncio.Future]] = {}
        self._changed: asyncio.Future | None = None
        self._scanning = self._rescan = False
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- wiring to the hub -------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._changed = loop.create_future()
        self._scanned_upto = self._scanner.submit(self._max_event_id).result()
        self.hub.listen(self._published)

    def _published(self) -> None:  # any thread
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._on_publish)
            except RuntimeError:  # the loop closed in between
                pass

    def _on_publish(self) -> None:  # loop thread
        changed, self._changed = self._changed, self.loop.create_future()
        if not changed.done():
            changed.set_result(None)
        if self.hub.closed:
            for waiters in self._feed_waiters.values():
                _wake(waiters)
            return
        if self._scanning:
            self._rescan = True
        else:
            self._scanning = True
            self.loop.create_task(self._scan())

    async def _scan(self) -> None:
        try:
            while True:
                self._rescan = False
                try:
                    news = await self.loop.run_in_executor(self._scanner, self._new_events)
                except Exception:  # noqa: BLE001 - a failed scan wakes everyone to re-read
                    news = {kiosk: 1 << 62 for kiosk in self._feed_waiters}
                for kiosk_id, newest in news.items():
                    self._latest[kiosk_id] = max(newest, self._latest.get(kiosk_id, 0))
                    _wake(self._feed_waiters.get(kiosk_id, ()))
                if not self._rescan:
                    return
        finally:
            self._scanning = False

    def _db(self):
        if self._scan_db is None:
            self._scan_db = connect(database_path(self.app))
        return self._scan_db

    def _max_event_id(self) -> int:
        return feed.max_event_id(self._db())

    def _new_events(self) -> dict[int, int]:
        rows = (
            self._db()
            .execute(
                "SELECT kiosk_id, MAX(id) FROM kiosk_events WHERE id > ? GROUP BY kiosk_id",
                (self._scanned_upto,),
            )
            .fetchall()
        )
        if rows:
            self._scanned_upto = max(self._scanned_upto, *(newest for _, newest in rows))
        return dict(rows)

    def close(self) -> None:
        self.hub.unlisten(self._published)

        def close_db():
            if self._scan_db is not None:
                self._scan_db.close()

        self._scanner.submit(close_db)
        self._scanner.shutdown(wait=True, cancel_futures=False)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- ASGI --------------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.wsgi(scope, receive, send)
        scope = self._proxied(scope)
        if scope["method"] == "GET" and scope["path"] == FEED_PATH:
            return await self._feed(scope, send)
        if scope["method"] == "GET" and scope["path"] == STREAM_PATH:
            return await self._stream(scope, receive, send)
        return await self.wsgi(scope, receive, send)

    def _proxied(self, scope):
        """Forwarded headers count only from the one trusted proxy (its last hop);
        from anyone else they are removed before the app sees them."""
        headers = scope["headers"]
        client = scope.get("client")
        trusted = bool(self.trusted_proxy and client and _same_host(client[0], self.trusted_proxy))
        if not any(name in FORWARDED for name, _ in headers):
            return scope
        scope = dict(scope)
        kept = [(n, v) for n, v in headers if n not in FORWARDED]
        if trusted:
            forwarded = {n: v.decode("latin-1") for n, v in headers if n in FORWARDED}
            if peer := _last(forwarded.get(b"x-forwarded-for")):
                scope["client"] = (peer, 0)
            if (proto := _last(forwarded.get(b"x-forwarded-proto"))) in ("http", "https"):
                scope["scheme"] = proto
            if host := _last(forwarded.get(b"x-forwarded-host")):
                kept = [(n, v) for n, v in kept if n != b"host"] + [(b"host", host.encode())]
        scope["headers"] = kept
        return scope

    async def _call_flask(self, scope) -> tuple[int, list, bytes, dict]:
        """Run the Flask app for a bodiless GET on the pool; the whole answer, buffered."""
        front: dict = {}
        environ = build_environ(scope, io.BytesIO(b""))
        environ[FRONT_KEY] = front

        def run():
            started = {}

            def start_response(status, headers, exc_info=None):
                started["status"], started["headers"] = status, headers

            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            return int(started["status"].split(" ", 1)[0]), started["headers"], body

        status, headers, body = await self.loop.run_in_executor(self.pool, run)
        return status, headers, body, front

    async def _feed(self, scope, send) -> None:
        wait = _wait_asked(scope)
        early = self.connections.answer_early
        deadline = self.loop.time() + (0 if early else wait)
        reread = False
        while True:
            status, headers, body, front = await self._call_flask(scope)
            remaining = deadline - self.loop.time()
            kiosk_id = front.get("kiosk_id")
            if status != 200 or front.get("events") or kiosk_id is None or remaining <= 0:
                break
            if self.hub.closed:
                break
            if not reread and self._latest.get(kiosk_id, 0) > front["start"]:
                reread = True  # news was scanned between the read and now: read again
                continue
            if not await self._wait_for_kiosk(kiosk_id, remaining):
                break  # time is up (or closing): the empty answer stands
            reread = True
        if early and status == 200:
            headers = [*headers, ("Retry-After", str(EARLY_RETRY_SECONDS))]
        await _respond(send, status, headers, body)

    async def _wait_for_kiosk(self, kiosk_id: int, timeout: float) -> bool:
        """Park this long-poll until its kiosk has news (True) or time is up (False)."""
        waiter = self.loop.create_future()
        waiters = self._feed_waiters.setdefault(kiosk_id, set())
        waiters.add(waiter)
        self.connections.feeds += 1
        self.connections.changed()
        try:
            await asyncio.wait_for(waiter, timeout)
            return not self.hub.closed
        except TimeoutError:
            return False
        finally:
            self.connections.feeds -= 1
            self.connections.changed()
            waiters.discard(waiter)
            if not waiters:
                self._feed_waiters.pop(kiosk_id, None)

    async def _stream(self, scope, receive, send) -> None:
        status, headers, body, front = await self._call_flask(scope)
        if not front.get("stream"):  # not signed in, not allowed …: Flask's answer as it is
            await _respond(send, status, headers, body)
            return
        keepalive = front["keepalive"]
        self.connections.streams += 1
        self.connections.changed()
        gone = self.loop.create_task(_disconnected(receive))
        try:
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]  # endless
            await send({"type": "http.response.start", "status": 200, "headers": _raw(headers)})
            await send(
                {"type": "http.response.body", "body": b"retry: 2000\n\n", "more_body": True}
            )
            seen = front["version"]
            while not self.hub.closed:
                changed = self._changed
                if self.hub.version == seen:
                    # FIRST_COMPLETED: the default waits for *both* (news and a hang-up),
                    # which held every event back until the next keep-alive tick
                    await asyncio.wait(
                        {changed, gone}, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED
                    )
                if gone.done() or self.hub.closed:
                    break
                version = self.hub.version
                if version == seen:
                    # an event, not a comment: the page's EventSource sees it and knows the stream lives
                    chunk = b"event: keepalive\ndata: 1\n\n"
                else:
                    seen = version
                    chunk = f"event: queue\ndata: {version}\n\n".encode()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not gone.done():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            self.connections.streams -= 1
            self.connections.changed()


def _wake(waiters) -> None:
    for waiter in list(waiters):
        if not waiter.done():
            waiter.set_result(None)


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _raw(headers) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


async def _respond(send, status: int, headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _raw(headers)})
    await send({"type": "http.response.body", "body": body})


def _wait_asked(scope) -> float:
    """The long-poll's wait as asked; Flask validates it (a bad one gets its 400)."""
    try:
        wait = float(parse_qs(scope["query_string"].decode("latin-1")).get("wait", ["0"])[0])
    except (ValueError, UnicodeDecodeError):
        return 0.0
    return wait if 0 <= wait <= 3600 else 0.0


def _last(value: str | None) -> str:
    return value.split(",")[-1].strip() if value else ""


def _same_host(peer: str, trusted: str) -> bool:
    try:
        return ipaddress.ip_address(peer) == ipaddress.ip_address(trusted)
    except ValueError:
        return peer == trusted


def listening_socket(host: str, port: int) -> socket.socket:
    """Inheritable: the workers of `lobbydesk console --processes N` serve on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def socket_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ConsoleServer:
    """A running console: `url`, `stop()`. Used by the CLI, tests and benchmarks."""

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int | None = None,
        sock: socket.socket | None = None,
    ):
        """`sock`: a listening socket to serve on instead of binding host:port (a worker
        of `lobbydesk console --processes N`, console/workers.py)."""
        self.app = app
        self.front = LiveFront(app, threads or app.config["THREADS"])
        self._socket = sock if sock is not None else listening_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            http="httptools",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # LiveFront._proxied: only from the trusted proxy
            server_header=False,
            headers=[("server", "LobbyDesk")],
            # A kiosk keeps its connection between long-polls and writes.
            timeout_keep_alive=app.config["LONG_POLL_SECONDS"] + 30,
            timeout_graceful_shutdown=5,
            backlog=2048,
        )
        self._server = _Server(config, on_shutdown=live.hub(app).close)
        self._thread: threading.Thread | None = None
        self._jobs = BackgroundJobs(app)
        self._stopped = False

    async def _asgi(self, scope, receive, send):
        if self.front.loop is None:
            self.front.start(asyncio.get_running_loop())
        await self.front(scope, receive, send)

    @property
    def url(self) -> str:
        return socket_url(self.host, self.port)

    def _start_beside_server(self) -> None:
        """What runs beside the event loop: the jobs (when this process holds their
        lease) and the watcher that hears other processes' publishes."""
        live.hub(self.app).watch_other_processes()
        self._jobs.start()

    def serve_forever(self) -> None:
        self._start_beside_server()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self.stop()

    def start_in_background(self) -> ConsoleServer:
        self._start_beside_server()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="console-server"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once: wake open streams and long-polls (they answer and end), stop
        accepting, let uvicorn close every connection, then end the worker pool."""
        if self._stopped:
            return
        self._stopped = True
        self._jobs.stop()
        live.hub(self.app).stop_watching()
        live.hub(self.app).close()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.front.close()
        self._socket.close()
