"""A small HTTP/1.1 proxy in front of the test server that can lose answers.

Rules decide, request by request, what happens to it:

- ``"forward"``: forward the request and relay the answer;
- ``"drop"``: forward the request, read the whole answer, then close the client's
  connection without sending it (the service acted; the client never heard);
- ``"refuse"``: close the connection without forwarding (the service never heard);
- ``(status, headers, body)``: answer that itself without forwarding.

Every request seen is recorded (method, path, headers, body, what was done).
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Action = Any  # "forward" | "drop" | "refuse" | tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    action: str
    status: int | None = None


def _read_head(conn: socket.socket, buffer: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end])
    del buffer[:end]
    return head


def _read_exact(conn: socket.socket, buffer: bytearray, length: int) -> bytes:
    while len(buffer) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed mid-body")
        buffer.extend(chunk)
    body = bytes(buffer[:length])
    del buffer[:length]
    return body


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _read_chunked(conn: socket.socket, buffer: bytearray) -> bytes:
    body = bytearray()
    while True:
        while b"\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("closed in chunked body")
            buffer.extend(chunk)
        line_end = buffer.index(b"\r\n")
        size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
        del buffer[:line_end + 2]
        if size == 0:
            _read_exact(conn, buffer, 2)
            return bytes(body)
        body.extend(_read_exact(conn, buffer, size))
        _read_exact(conn, buffer, 2)


class DroppingProxy:
    def __init__(self, upstream: str, rule: Callable[[Seen, int], Action] | None = None) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.rule = rule or (lambda seen, index: "forward")
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> DroppingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if (method is None or s.method == method) and (path is None or s.path == path)]

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        try:
            while True:
                head = _read_head(conn, buffer)
                if head is None:
                    return
                request_line, headers = _headers(head)
                method, target, _ = request_line.split(" ", 2)
                body = _read_exact(conn, buffer, int(headers.get("content-length", "0")))
                seen = Seen(method, target.split("?")[0], headers, body, "")
                with self._lock:
                    index = len(self.seen)
                    self.seen.append(seen)
                action = self.rule(seen, index)
                if action == "refuse":
                    seen.action = "refuse"
                    return
                if isinstance(action, tuple):
                    status, extra, content = action
                    seen.action, seen.status = "answer", status
                    lines = [f"HTTP/1.1 {status} Proxy", f"Content-Length: {len(content)}",
                             "Content-Type: application/problem+json", *[f"{k}: {v}" for k, v in extra.items()]]
                    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + content)
                    continue
                response, status = self._forward(head, body)
                seen.status = status
                if action == "drop":
                    seen.action = "drop"
                    return  # the service answered; the client never hears it
                seen.action = "forward"
                conn.sendall(response)
        except (ConnectionError, OSError):
            return
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _forward(self, head: bytes, body: bytes) -> tuple[bytes, int]:
        request_lines = [line for line in head.decode("latin-1").split("\r\n")[:-2]
                         if not line.lower().startswith("connection:")]
        head = ("\r\n".join([*request_lines, "Connection: close"]) + "\r\n\r\n").encode("latin-1")
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(head + body)
            buffer = bytearray()
            response_head = _read_head(upstream, buffer)
            if response_head is None:
                raise ConnectionError("upstream closed")
            status_line, headers = _headers(response_head)
            status = int(status_line.split(" ")[1])
            if "content-length" in headers:
                content = _read_exact(upstream, buffer, int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                content = _read_chunked(upstream, buffer)
            else:
                content = bytes(buffer) + b"".join(iter(lambda: upstream.recv(65536), b""))
            lines = [line for line in response_head.decode("latin-1").split("\r\n")[:-2]
                     if not line.lower().startswith(("content-length:", "transfer-encoding:", "connection:"))]
            lines.append(f"Content-Length: {len(content)}")
            return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + content, status


def drop_first(method: str, path_suffix: str) -> Callable[[Seen, int], Action]:
    """Drops the answer to the first request of ``method`` whose path ends with ``path_suffix``."""
    state = {"dropped": False}

    def rule(seen: Seen, index: int) -> Action:
        if not state["dropped"] and seen.method == method and seen.path.endswith(path_suffix):
            state["dropped"] = True
            return "drop"
        return "forward"

    return rule
