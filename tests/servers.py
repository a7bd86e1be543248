"""Real servers for tests: a throwaway Redis and daphne processes, stopped by PID."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before listening"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def stopped_on_failure(process: subprocess.Popen) -> Iterator[None]:
    """A server that never came up must not outlive the test that started it."""
    try:
        yield
    except BaseException:
        stop(process)
        raise


class RedisServer:
    """redis-server on a free loopback port, nothing persisted."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server is not installed: apt-get install redis-server"
            )
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        with stopped_on_failure(self.process):
            wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)


class Site:
    """A deployed copy of the chat: its own SQLite file, static files and settings."""

    def __init__(self, workdir: Path, redis_url: str) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "DATABASE_URL": f"sqlite:///{workdir / 'chat.sqlite3'}",
            "CHAT_VAR_DIR": str(workdir),
            "STATIC_ROOT": str(workdir / "static"),
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret-key-for-the-live-site-only-000000000000",
            "DJANGO_DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def prepare(self) -> "Site":
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        return self


class Daphne:
    """One daphne process serving `site` on a free port."""

    def __init__(self, site: Site, port: int | None = None) -> None:
        self.site = site
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log = site.workdir / f"daphne-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Daphne":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-e",
                    f"tcp:port={self.port}:interface=127.0.0.1:backlog=1024",
                    "--websocket_connect_timeout",
                    "10",
                    "chatsite.asgi:application",
                ],
                cwd=ROOT,
                env=self.site.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        with stopped_on_failure(self.process):
            wait_for_port(self.port, self.process)
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as response:
                assert response.status == 200
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
