"""A local HTTP server for the download path: serves stand-in files on 127.0.0.1, and fails on request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInServer:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 in a background thread.

    ``failures[path]`` makes a path fail: ``"404"`` answers Not Found, ``"drop"`` announces the full length, sends
    half of the bytes and closes the connection, ``"corrupt"`` sends other bytes of the same length. Use as a context
    manager; every request times out after ``timeout`` seconds, so a stuck client cannot hang the test.
    """

    def __init__(self, files: dict[str, bytes], timeout: float = 30.0) -> None:
        self.files = files
        self.failures: dict[str, str] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                failure = server.failures.get(self.path)
                if body is None or failure == "404":
                    self.send_error(404, "Not Found")
                    return
                if failure == "corrupt":
                    body = bytes(reversed(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if failure == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        Handler.timeout = timeout
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> StandInServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
