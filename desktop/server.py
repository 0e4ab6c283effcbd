"""The threaded WSGI server (waitress), bound to loopback only."""

import threading

from waitress import wasyncore
from waitress.server import create_server

LOOPBACK = "127.0.0.1"


class Server:
    """Serves `wsgi` on 127.0.0.1; falls back to a free port when `port` is taken."""

    def __init__(self, wsgi, port=8080, threads=8, max_body_bytes=None):
        options = {"host": LOOPBACK, "threads": threads, "ident": "LabelDesk",
                   "clear_untrusted_proxy_headers": True, "channel_timeout": 300}
        if max_body_bytes:
            options["max_request_body_size"] = max_body_bytes
        self.fell_back = False
        try:
            self.server = create_server(wsgi, port=port, **options)
        except OSError:
            if port == 0:
                raise
            self.server = create_server(wsgi, port=0, **options)
            self.fell_back = True
        self.requested_port = port
        self.port = self.server.effective_port
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._thread = None

    def serve_forever(self):
        try:
            self.server.run()
        except (OSError, ValueError):
            pass  # the socket map was closed from another thread: we are shutting down
        finally:
            # let requests in progress finish before the caller closes the store
            self.server.task_dispatcher.shutdown(timeout=5)

    def start(self):
        """Serve in a background thread (the window and the tests use this)."""
        self._thread = threading.Thread(target=self.serve_forever, name="labeldesk-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Close the listening socket *and* every open connection: a client's keep-alive
        connection would otherwise keep the loop (and the process) running."""
        server = self.server
        try:
            # run in the loop's own thread, so the socket map doesn't change under it
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            wasyncore.close_all(server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
