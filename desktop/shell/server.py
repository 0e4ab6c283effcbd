"""The threaded WSGI server (waitress), bound to loopback only.

Connection limits (docs/security.md): waitress' defaults stop accepting at 100 open
connections and drop idle ones only after 120 s, so 100 idle sockets (a leaky client pool,
a script's slowloris) stalled every other client for minutes. Idle connections cost no
thread (waitress reads whole requests before a worker sees them), only a file descriptor, so
the limit is set high and checked against the process' descriptor limit, poll() replaces
select() (which fails past descriptor 1024), and idle or half-sent connections are closed
after CHANNEL_TIMEOUT seconds of silence.
"""

import select
import threading

from waitress import wasyncore
from waitress.server import create_server

LOOPBACK = "127.0.0.1"
CONNECTION_LIMIT = 1000  # open connections before waitress stops accepting
CHANNEL_TIMEOUT = 60  # seconds a connection may stay silent (no request in progress)
CLEANUP_INTERVAL = 10  # how often waitress looks for silent connections
FD_RESERVE = 200  # descriptors kept for the store, media and export files
USE_POLL = hasattr(select, "poll")


def connection_limit(wanted=CONNECTION_LIMIT):
    """`wanted`, or less when the process may not open that many files: the soft descriptor
    limit is raised towards the hard one first (macOS starts at 256)."""
    if not USE_POLL:  # Windows: select() takes at most 512 sockets
        return min(wanted, 400)
    try:
        import resource
    except ImportError:
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    goal = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < goal:
        new = goal if hard == resource.RLIM_INFINITY else min(goal, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(50, min(wanted, soft - FD_RESERVE))


class Server:
    """Serves `wsgi` on 127.0.0.1; falls back to a free port when `port` is taken."""

    def __init__(self, wsgi, port=8080, threads=8, max_body_bytes=None):
        options = {"host": LOOPBACK, "threads": threads, "ident": "LabelDesk",
                   "clear_untrusted_proxy_headers": True, "channel_timeout": CHANNEL_TIMEOUT,
                   "cleanup_interval": CLEANUP_INTERVAL,
                   "connection_limit": connection_limit(),
                   "asyncore_use_poll": USE_POLL}
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

        def close(keep_trigger):
            for channel in list(server._map.values()):
                if keep_trigger and channel is server.trigger:
                    continue
                try:
                    channel.close()
                except OSError:
                    pass
        # In the loop's own thread, so the socket map doesn't change under it: first the
        # listening socket and the connections; then, once the requests in progress have
        # finished (a finishing request wakes the loop through the trigger: closed first, it
        # failed with EBADF and waitress logged a traceback), the trigger, which ends the loop.
        try:
            server.trigger.pull_trigger(lambda: close(keep_trigger=True))
            server.task_dispatcher.shutdown(timeout=5)
            server.trigger.pull_trigger(lambda: close(keep_trigger=False))
        except OSError:
            wasyncore.close_all(server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
