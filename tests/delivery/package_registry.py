"""A stand-in for GitLab's generic package registry, for tests/delivery.

    python3 package_registry.py ROOT LOG TOKEN

Serves the files under ROOT on 127.0.0.1 (a free port, printed as the first line of standard output), as
GitLab with object storage serves `GET /api/v4/projects/ID/packages/generic/NAME/VERSION/FILE`: only to
requests carrying TOKEN in a `DEPLOY-TOKEN`, `PRIVATE-TOKEN` or `JOB-TOKEN` header (401 otherwise), and by a
302 to a signed URL on another host (`localhost`, the "storage"), which serves the file to anyone. Appends
"PATH token=yes|no" to LOG for every registry request, and "storage PATH token=yes|no" for every storage
request, where token=yes there means a client leaked the token to the storage host. Stops on SIGTERM.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import sys


class RegistryHandler(http.server.SimpleHTTPRequestHandler):
    token = ""
    log_path = ""

    TOKEN_HEADERS = ("DEPLOY-TOKEN", "PRIVATE-TOKEN", "JOB-TOKEN")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.startswith("/storage/"):
            leaked = any(self.headers.get(name) for name in self.TOKEN_HEADERS)
            self.path = self.path[len("/storage"):]
            self._record(leaked, prefix="storage ")
            self.path = self.path.split("?", 1)[0]
            super().do_GET()
            return
        authorised = any(self.headers.get(name) == self.token for name in self.TOKEN_HEADERS)
        self._record(authorised)
        if not authorised:
            self.send_error(401, "token missing or wrong")
            return
        if not os.path.isfile(self.translate_path(self.path)):
            self.send_error(404)
            return
        port = self.server.server_address[1]
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{port}/storage{self.path}?X-Amz-Signature=stand-in")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_error(405)

    def list_directory(self, path):  # no listings, as the registry
        self.send_error(404)
        return None

    def _record(self, token: bool, prefix: str = "") -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{prefix}{self.path} token={'yes' if token else 'no'}\n")

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


def main() -> None:
    root, log_path, token = sys.argv[1:4]
    RegistryHandler.token = token
    RegistryHandler.log_path = log_path
    handler = functools.partial(RegistryHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
