"""A stand-in for GitLab's generic package registry, for tests/delivery.

    python3 package_registry.py ROOT LOG TOKEN

Serves the files under ROOT on 127.0.0.1 (a free port, printed as the first line of standard output), as
GitLab serves `GET /api/v4/projects/ID/packages/generic/NAME/VERSION/FILE`: only to requests carrying
`JOB-TOKEN: TOKEN` (401 otherwise). Appends "PATH TOKEN-HEADER-PRESENT STATUS" to LOG for every request.
Stops on SIGTERM.
"""

from __future__ import annotations

import functools
import http.server
import signal
import sys


class RegistryHandler(http.server.SimpleHTTPRequestHandler):
    token = ""
    log_path = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        authorised = self.headers.get("JOB-TOKEN") == self.token
        self._record(authorised)
        if not authorised:
            self.send_error(401, "JOB-TOKEN missing or wrong")
            return
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        self.send_error(405)

    def list_directory(self, path):  # no listings, as the registry
        self.send_error(404)
        return None

    def _record(self, authorised: bool) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{self.path} token={'yes' if authorised else 'no'}\n")

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
