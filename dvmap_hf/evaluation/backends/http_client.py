"""The HTTP layer of the openai backend: `/chat/completions` requests over `http.client`, not the `openai`
client or `httpx`, for guarantees neither gives as a whole:

- each worker thread keeps one HTTP/1.1 connection alive between its requests, and one the server closed
  while it was idle is opened again once, not counted as a failure;
- `timeout` bounds the whole exchange (connecting, waiting and reading): a server that drips a reply does
  not hold a worker (the `openai` client and `httpx` bound each read);
- redirects are not followed (a POST redirected arrives as a GET without its body): they are reported;
- a reply over `max_reply` bytes is refused, and one shorter than its Content-Length is a broken
  connection, not a reply;
- a proxy the environment names (HTTP(S)_PROXY, NO_PROXY) is used through urllib, a connection per request.

`httpx` (installed with huggingface_hub) would give the pool, but its timeouts are per phase and its
Content-Length check is an exception type of its own; these few lines keep each rule tested in one place.
"""

from __future__ import annotations

import threading
import time
import urllib.request


class Refused(Exception):
    """A reply no retry will mend (too large, not a completion): final, not retried."""


class KeptAliveClient:
    """POSTs to one URL, each worker thread on its own kept-alive connection; `open` holds them all until
    `close_all`."""

    def __init__(self, url: str, headers: dict, timeout: float, max_reply: int):
        self.url, self.headers, self.timeout, self.max_reply = url, headers, timeout, max_reply
        self.target = request_target(url)
        self.proxied = proxied(url)  # then urllib, through the proxy, a connection per request
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.local = threading.local()  # each worker thread's connection, kept alive between its requests
        self.open: set = set()  # all of them, closed when a stream ends
        self.lock = threading.Lock()

    def post(self, payload: bytes) -> tuple[int, str, dict]:
        """(status, reply text, headers), the whole exchange within `timeout` seconds, on this thread's
        kept-alive connection (one the server closed while it was idle is opened again, once)."""
        deadline = time.monotonic() + self.timeout
        if self.proxied:
            return self._post_via_proxy(payload, deadline)
        while True:
            reused = getattr(self.local, "connection", None) is not None
            connection = self._connection()
            try:
                connection.request("POST", self.target, payload, self.headers)
                response = connection.getresponse()
                reply = self._read(response, deadline)
                response.close()  # read to its length, not yet released (read1 leaves that to the next call)
            except Exception as exc:
                self._drop()
                if reused and isinstance(exc, ConnectionResetError | BrokenPipeError):
                    continue  # closed by the server while idle (http.client.RemoteDisconnected): a new one
                raise
            if response.will_close:
                self._drop()
            return response.status, reply, dict(response.headers)

    def _connection(self):
        import http.client
        from urllib.parse import urlsplit

        if getattr(self.local, "connection", None) is None:
            parts = urlsplit(self.url)  # credentials of the URL are not sent (nor shown)
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            self.local.connection = kind(parts.hostname, parts.port, timeout=self.timeout)
            with self.lock:
                self.open.add(self.local.connection)
        return self.local.connection

    def _drop(self) -> None:
        connection, self.local.connection = getattr(self.local, "connection", None), None
        if connection is not None:
            connection.close()
            with self.lock:
                self.open.discard(connection)

    def close_all(self) -> None:
        with self.lock:
            connections, self.open = self.open, set()
        for connection in connections:
            connection.close()

    def _post_via_proxy(self, payload: bytes, deadline: float) -> tuple[int, str, dict]:
        import urllib.error

        request = urllib.request.Request(self.url, payload, self.headers, method="POST")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, self._read(response, deadline), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, self._read(exc, deadline), dict(exc.headers or {})

    def _read(self, response, deadline: float) -> str:
        read = getattr(response, "read1", None) or getattr(getattr(response, "fp", None), "read1", response.read)
        chunks, size = [], 0
        while chunk := read(65536):
            size += len(chunk)
            if size > self.max_reply:
                raise Refused(f"a reply over {self.max_reply >> 20} MiB (not a completion)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the reply took longer than --timeout {self.timeout:g} s")
            chunks.append(chunk)
        if getattr(response, "length", None):  # the connection ended before the Content-Length it announced
            raise ConnectionError(f"the reply ended {response.length} bytes short of its Content-Length")
        return b"".join(chunks).decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A POST redirected would arrive as a GET without its body: report the redirect instead."""

    def redirect_request(self, *args, **kwargs):
        return None


def request_target(url: str) -> str:
    """What the request line asks for: the URL's path and query."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def proxied(url: str) -> bool:
    """Whether the environment sends requests for `url` through a proxy (HTTP(S)_PROXY, NO_PROXY)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname or "")


def credentials(url: str) -> tuple[str, ...]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return tuple(filter(None, (parts.username, parts.password, *(v for _, v in parse_qsl(parts.query)))))


def no_server(exc: Exception) -> bool:
    """A refused connection or an unknown host: no server, as opposed to a slow or busy one."""
    import socket
    import urllib.error

    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)
