"""A local HTTP server for the download tests: files from a temporary folder on 127.0.0.1 (a free
port, never any outside address), and paths that misbehave the way real servers and networks do.

    /files/NAME          the file, with its Content-Length
    /missing             404
    /loop                301 to itself
    /truncated/NAME      the right Content-Length, then half the body and a closed connection
    /wrong-length/NAME   a Content-Length 1000 bytes longer than the body
    /slow/NAME           the body in 1 KiB drips every 20 ms (for cancel)
    /stall/NAME          the headers and 1 KiB, then silence for 1.5 s (for the read timeout)
    /to-file             302 to a file:// URL (which must never be followed)
    /chunked/NAME        the body without a Content-Length (chunked transfer encoding)
    /html/NAME           a sign-in page as text/html, with 200
    /page/NAME           a web page with 200, labelled application/octet-stream
    /empty               200 and an empty body
    /private/NAME        the file for Basic credentials alice / "pä ss:word", else 401
    /moved/NAME          302 to /files/NAME
    /away/NAME           302 to /files/NAME at localhost (another origin than 127.0.0.1)
    /garbage             a status line that is not HTTP

The Authorization header of every request is kept per path (`authorization`).

Every request is counted per path, so a test can prove that a cache hit made none. Test modules
make fixtures of `local_server` and `isolated_cache`.
"""

from __future__ import annotations

import base64
import collections
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

#: what /private/ accepts: Basic alice:"pä ss:word" (UTF-8), which a URL spells
#: alice:p%C3%A4%20ss%3Aword@
PRIVATE_AUTH = "Basic " + base64.b64encode("alice:pä ss:word".encode()).decode("ascii")


class LocalServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: collections.Counter[str] = collections.Counter()
        self.authorization: dict[str, str | None] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(_Handler):
            owner = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def add(self, name: str, data: bytes) -> str:
        """Serve `data` as /files/NAME; its URL."""
        (self.root / name).write_bytes(data)
        return self.url(f"files/{name}")

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def count(self, path: str, authorization: str | None) -> None:
        with self._lock:
            self.requests[path] += 1
            self.authorization[path] = authorization

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    owner: LocalServer
    timeout = 10  # a stuck client never holds a server thread for long
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.owner.count(self.path, self.headers.get("Authorization"))
        kind, _, name = self.path.lstrip("/").partition("/")
        if kind == "missing":
            return self._status(404)
        if kind == "moved":
            return self._status(302, location=f"/files/{name}")
        if kind == "away":
            port = self.owner.port
            return self._status(302, location=f"http://localhost:{port}/files/{name}")
        if kind == "garbage":
            self.wfile.write(b"GARBAGE LINE\r\nmore garbage\r\n\r\n")
            self.close_connection = True
            return None
        if kind == "private":
            if self.headers.get("Authorization") != PRIVATE_AUTH:
                return self._status(401)
            kind = "files"
        if kind == "loop":
            return self._status(301, location=self.path)
        if kind == "to-file":
            return self._status(302, location="file:///etc/hostname")
        if kind == "empty":
            return self._body(b"", 0)
        page = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
        if kind in ("html", "page"):
            return self._body(page, len(page), "text/html" if kind == "html" else None)
        path = self.owner.root / name
        if not name or "/" in name or not path.is_file():
            return self._status(404)
        data = path.read_bytes()
        try:
            if kind == "files":
                self._body(data, len(data))
            elif kind == "truncated":
                self._body(data[: len(data) // 2], len(data))
            elif kind == "wrong-length":
                self._body(data, len(data) + 1000)
            elif kind == "slow":
                self._head(len(data))
                for i in range(0, len(data), 1024):
                    self.wfile.write(data[i : i + 1024])
                    self.wfile.flush()
                    time.sleep(0.02)
            elif kind == "stall":
                self._head(len(data))
                self.wfile.write(data[:1024])
                self.wfile.flush()
                time.sleep(1.5)
            elif kind == "chunked":
                self._head(None)
                for i in range(0, len(data), 4096):
                    part = data[i : i + 4096]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self._status(404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a cancel): nothing to do
        self.close_connection = True

    def _head(self, length: int | None, content_type: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()

    def _body(self, data: bytes, announced: int, content_type: str | None = None) -> None:
        self._head(announced, content_type)
        self.wfile.write(data)
        self.wfile.flush()

    def _status(self, code: int, location: str | None = None) -> None:
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


@contextmanager
def local_server(tmp_path: Path) -> Iterator[LocalServer]:
    """A running server over a new folder under `tmp_path`, shut down on exit (for a fixture)."""
    root = tmp_path / "served"
    root.mkdir()
    server = LocalServer(root)
    try:
        yield server
    finally:
        server.close()


def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty download cache that every default lookup uses (never the user's own), and the
    local server reached directly even where a proxy is configured."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STYLEGAN2_CACHE", str(folder))
    monkeypatch.delenv("STYLEGAN2_OFFLINE", raising=False)  # the suite's default: see conftest
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # a proxy set for the user's shell
    return folder


def cache_files(folder: Path) -> list[str]:
    """Everything in the cache folder but the index, hidden temporary files included."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.name != "index.json")
