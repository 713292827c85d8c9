"""Starting a real console to test or measure against, and signing staff in to it.

One place for it, used by the browser and kiosk-window tests (tests/browser/conftest.py,
tests/ui/conftest.py), the tests that kill a console process, and the benchmarks
(bench/*.py), so that a benchmark measures the console the tests check:

- in-process on a real port: `serve(make_app(...))` (uvicorn through
  console.server.ConsoleServer, as `lobbydesk console` serves);
- as the `lobbydesk console` process, which can be SIGKILLed: `ConsoleProcess`;
- the benchmarks' console: `bench_app` / `bench_console` (production password
  hashing, the real clock, the bench's reception login);
- staff signed in over HTTP (`signed_in_session`) or in Debian's Chromium
  (`launch_chromium`, then tests/browser/actions.py `sign_in`).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from console.server import ConsoleServer
from tests.helpers import add_staff, csrf_token, eventually, make_app, paired_kiosk

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

BENCH_BUILDING = {"name": "基准大厦", "name_en": "Bench Tower", "floors": 3}
# The benchmarks' receptionist; a fresh password each run, as nothing keeps it.
BENCH_USERNAME, BENCH_PASSWORD = "bench.reception", "bench-" + secrets.token_hex(8)


def launch_chromium(playwright):
    """Debian's Chromium (not Playwright's download), headless, as the tests run it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def serve(app) -> ConsoleServer:
    """The app served on a free local port in the background; `.url`, `.stop()`."""
    return ConsoleServer(app).start_in_background()


def bench_app(data_dir, *, building=BENCH_BUILDING, **config):
    """The console app as `lobbydesk console` makes it (argon2id at production cost, a
    random secret key, the real clock) over `data_dir`, with a building (see make_app)
    and the bench's reception login."""
    app = make_app(data_dir, testing=False, building=building, **config)
    add_staff(app, BENCH_USERNAME, "reception", "基准前台", password=BENCH_PASSWORD, cheap=False)
    return app


def bench_console(data_dir, **config) -> tuple[ConsoleServer, str]:
    """`bench_app` with one paired kiosk, served: (the server, the kiosk's token).
    Kiosk writes are not paced unless config says so: the benchmarks measure latency,
    not the per-kiosk limit."""
    app = bench_app(data_dir, **{"KIOSK_WRITE_BURST": 10**9, **config})
    _kiosk_id, token = paired_kiosk(app)
    return serve(app), token


def signed_in_session(
    base_url: str,
    username: str = BENCH_USERNAME,
    password: str = BENCH_PASSWORD,
    page: str = "/",
) -> tuple[requests.Session, str]:
    """Staff signed in through the login form over HTTP, as a browser would; returns
    the session and the CSRF token of `page` for its forms."""
    http = requests.Session()
    login = http.get(f"{base_url}/login", timeout=10).text
    http.post(
        f"{base_url}/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(login)},
        timeout=10,
    ).raise_for_status()
    return http, csrf_token(http.get(f"{base_url}{page}", timeout=10).text)


class ReceptionHttp:
    """A receptionist's browser as plain HTTP: signed in through the login form (the
    session lives in the console's database, so it outlasts a console restart)."""

    def __init__(self, base_url: str, username=BENCH_USERNAME, password=BENCH_PASSWORD, page="/"):
        self.base_url = base_url
        self.http, self.csrf = signed_in_session(base_url, username, password, page)

    def on_my_way(self, escalation_id: int) -> None:
        """'On my way' on a help call, as the queue page's button posts it."""
        response = self.http.post(
            f"{self.base_url}/queue/escalations/{escalation_id}/acknowledge",
            data={"csrf_token": self.csrf},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.status_code

    def close(self) -> None:
        self.http.close()


def free_port() -> int:
    """A local port nothing listens on now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ConsoleProcess:
    """`lobbydesk console` as a real process, as systemd runs it: on a data folder and
    a port, started again on the same port after a SIGKILL or a SIGTERM."""

    def __init__(
        self,
        data_dir,
        port=None,
        secret_key=None,
        *,
        keep_stderr=True,
        start_timeout=30,
        args=(),
        log_path=None,
    ):
        """`args`: more `lobbydesk console` arguments (e.g. --processes 2); `log_path`:
        a file its log goes to, readable while it runs (instead of keep_stderr)."""
        self.data_dir, self.port = Path(data_dir), port or free_port()
        self.args, self.log_path = list(args), log_path
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret_key = secret_key or secrets.token_hex(32)
        # A test reads stderr when the console fails; a long benchmark must not, or an
        # unread pipe would fill and block the console.
        self.stderr = subprocess.PIPE if keep_stderr else subprocess.DEVNULL
        self.process: subprocess.Popen | None = None
        self.start_timeout = start_timeout
        self.ready_at = 0.0

    def start(self) -> ConsoleProcess:
        """Start it and return once its port accepts a connection; `ready_at` is that
        moment (perf_counter). Fails, with its stderr, if it exits or does not come up."""
        env = {**os.environ, "LOBBYDESK_SECRET_KEY": self.secret_key}
        command = [sys.executable, "-m", "lobbydesk", "console"]
        command += ["--data-dir", str(self.data_dir), "--port", str(self.port), *self.args]
        stderr = open(self.log_path, "a") if self.log_path else self.stderr
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
        )
        if self.log_path:
            stderr.close()  # the console holds its own copy
        try:
            # A short interval: the benchmarks time from the moment the port opens.
            eventually(
                self._accepts, timeout=self.start_timeout, interval=0.005, message="console started"
            )
        except AssertionError as failed:
            if self.process.poll() is None:
                self.process.kill()
            raise AssertionError(f"{failed}; stderr: {self.process.communicate()[1]}") from None
        self.ready_at = time.perf_counter()
        return self

    def _accepts(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the console exited with {self.process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL: a power cut, as far as the console can tell."""
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=10)

    def stop(self) -> None:
        """What `systemctl stop` does: SIGTERM, then wait (a kill if it hangs)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate(timeout=10)


class TcpProxy:
    """A TCP proxy on a free local port in front of the console's `upstream_port`,
    passing bytes both ways; a subclass changes what a connection gets (`_serve`) or
    what it gets while the console is down (`_refused`)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            self._refused(client)
            return
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        self._pump(upstream, client)

    def _refused(self, client: socket.socket) -> None:
        """The console is not listening: the kiosk's connection is closed."""
        client.close()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        """Copy until either side ends, then end both (the other direction's pump too)."""
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def close(self) -> None:
        self.listener.close()
