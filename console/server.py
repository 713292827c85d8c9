"""Serving the console with waitress, a production WSGI server (one process, threads).

One process keeps the in-process live hub correct (see console/live.py); the
thread pool is sized for staff event streams + kiosk long-polls + headroom.
"""

from __future__ import annotations

import threading

from waitress import wasyncore
from waitress.server import create_server

from console import live
from console.background import BackgroundJobs


def _proxy_options(trusted_proxy: str | None) -> dict:
    """Believe forwarded headers only from the one proxy we were told about."""
    if not trusted_proxy:
        return {}
    return {
        "trusted_proxy": trusted_proxy,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
    }


class ConsoleServer:
    """A running console: `url`, `stop()`. Used by the CLI, tests and benchmarks."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int | None = None):
        self.app = app
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads or app.config["THREADS"],
            channel_timeout=app.config["LONG_POLL_SECONDS"] + 30,
            # Idle keep-alive connections cost little in waitress' event loop; its
            # default of 100 refused new kiosks once 100 were connected (bench/sync_load.py).
            connection_limit=1000,
            ident="LobbyDesk",
            clear_untrusted_proxy_headers=True,
            **_proxy_options(app.config.get("TRUSTED_PROXY")),
        )
        self.host, self.port = self._server.effective_host, self._server.effective_port
        self._thread: threading.Thread | None = None
        self._jobs = BackgroundJobs(app)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self._jobs.start()
        self._server.run()

    def start_in_background(self) -> ConsoleServer:
        self._jobs.start()
        self._thread = threading.Thread(target=self._server.run, name="console-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once: wake open streams and long-polls, let worker threads end, then
        close every connection from inside waitress' own loop thread (closing sockets
        from another thread races with the loop and with threads still writing)."""
        self._jobs.stop()
        live.hub(self.app).close()
        self._server.task_dispatcher.shutdown(timeout=5)
        try:
            self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
        except OSError:
            # The loop has already ended and closed its trigger: nothing runs it any
            # more, so close what is left from here.
            wasyncore.close_all(self._server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
