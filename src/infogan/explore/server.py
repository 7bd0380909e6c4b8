"""The explorer's local web server: stdlib ``ThreadingHTTPServer`` in front of :class:`Explorer`.

Every reply, errors included, is JSON or a file the page needs; a request body is read only when its declared length
is within the limit; on a loopback address only requests whose Host is a loopback name are answered, so a web page
elsewhere cannot reach the server through DNS rebinding.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import ConfigError
from ..model import InfoGAN
from .app import MAX_BODY, Explorer, Response, error_response

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class ExploreServer(ThreadingHTTPServer):
    # Handler threads are joined on close, not left as daemons: a daemon thread still freeing a tensor when the
    # interpreter exits is killed mid C++ destructor, and the process aborts ("terminate called without an active
    # exception") instead of exiting 0.
    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # the listen backlog: bursts of page requests wait instead of being refused

    def __init__(self, explorer: Explorer, host: str, port: int):
        self.explorer = explorer
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if not 0 <= port <= 65535:
            raise ConfigError(f"port must be in 0..65535 (0 picks a free one), got {port}")
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), _Handler)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is in use; pass --port N (0 picks a free one)") from None
            raise ConfigError(f"cannot listen on {host}:{port} ({e.strerror}); pass another --host") from None
        self.loopback_only = _is_loopback(host)

    def process_request(self, request, client_address) -> None:
        with self._open_lock:  # before its thread starts, so server_close cannot miss it
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        # A keep-alive connection waits up to the handler timeout for its next request; shutting its socket ends
        # that wait at once, so closing (and joining the handler threads) takes milliseconds, not 30 s.
        with self._open_lock:
            for request in self._open:
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the client already closed it
        super().server_close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def make_server(model: InfoGAN, host: str = "127.0.0.1", port: int = 8000) -> ExploreServer:
    """A bound server (``port`` 0 picks a free one); run it with ``serve_forever()``."""
    return ExploreServer(Explorer(model), host, port)


class _Handler(BaseHTTPRequestHandler):
    server: ExploreServer
    protocol_version = "HTTP/1.1"  # keep-alive: the page sends a request per slider move
    server_version = "infogan-explore"
    timeout = 30  # seconds a client may stall mid-request before its thread is freed
    disable_nagle_algorithm = True  # headers and body go out as two writes: without this, a 40 ms delayed-ACK stall

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # no status line or headers: a client could not tell an error
            self.send_error(400, "HTTP/0.9 requests are not supported")
            return False
        return True

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return self._send(error_response(411, "POST needs a Content-Length header"), close=True)
        if not raw.isdigit():
            return self._send(error_response(400, "Content-Length must be a number of bytes"), close=True)
        if int(raw) > MAX_BODY:
            # Not read: the connection is closed instead, so the client stops sending.
            return self._send(error_response(413, f"body is {int(raw):,} bytes, more than the {MAX_BODY:,} allowed"),
                              close=True)
        self._answer(self.rfile.read(int(raw)))

    def __getattr__(self, name: str):
        # Any other method (HEAD, PUT, FOO...) gets a JSON 405, not http.server's HTML 501.
        if name.startswith("do_"):
            return lambda: self._send(error_response(405, f"method {self.command[:20]!r} is not allowed"))
        raise AttributeError(name)

    def _answer(self, body: bytes) -> None:
        if self.server.loopback_only and _host_name(self.headers.get("Host", "")) not in LOOPBACK_NAMES:
            return self._send(error_response(403, "this server answers only requests for localhost"))
        self._send(self.server.explorer.handle(self.command, self.path, body))

    def _send(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in response.headers.items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own errors (a malformed request line, oversized headers) as JSON too, always after a status
        # line: before the request line is parsed, http.server takes the request for HTTP/0.9, which has none.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self._send(error_response(code, message or self.responses.get(code, ("error",))[0]), close=True)

    def version_string(self) -> str:
        return self.server_version  # without the Python version

    def log_message(self, format: str, *args) -> None:
        pass  # quiet: the page makes a request per slider move


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` -> ``::1``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host
