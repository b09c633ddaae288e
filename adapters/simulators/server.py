"""Run an ASGI app (a provider simulator, the webhook app) on loopback in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    """A server started by `serve_in_thread`; `url` has no trailing slash."""

    url: str
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0,
                    startup_timeout: float = 10.0) -> RunningServer:
    """Start `app` under uvicorn on `host:port` (port 0 picks a free one) and wait until it serves.

    Binds 127.0.0.1 by default: simulators are never reachable from another machine.
    """
    if port == 0:
        port = _free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                            access_log=False, timeout_keep_alive=30)
    # uvicorn captures signals only on the main thread, so a server in a thread leaves them be.
    server = uvicorn.Server(config)

    def run() -> None:
        asyncio.run(server.serve())

    thread = threading.Thread(target=run, name=f"asgi-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"server on {host}:{port} did not start")
        time.sleep(0.01)
    return RunningServer(url=f"http://{host}:{port}", port=port, _server=server, _thread=thread)
