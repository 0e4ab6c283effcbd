"""Posting webhook events, one by one, from a worker thread: a slow or dead receiver never
holds up a save, and a full queue drops events rather than grow without bound.

Only to loopback: the URL is checked again here, and the opener follows no redirect (one to
another host would be a network call) and uses no proxy (HTTP_PROXY could send the request off
the machine). As LS, each post waits at most WEBHOOK_TIMEOUT (1 s) and its answer is ignored.
"""

import ipaddress
import logging
import queue
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import orjson

log = logging.getLogger("labeldesk.webhooks")

WEBHOOK_TIMEOUT = 1.0
QUEUE_SIZE = 10000


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx is the answer; nothing is fetched from elsewhere


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


def is_loopback_host(host):
    """localhost, 127.0.0.0/8 or ::1: the only hosts a webhook may post to."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def on_loopback(url):
    try:
        return is_loopback_host(urlsplit(url).hostname)
    except ValueError:
        return False


def post(url, headers, body, timeout=WEBHOOK_TIMEOUT):
    """One POST of a JSON body; the status, or None when the receiver could not be reached."""
    if not on_loopback(url):
        log.warning("webhook to %s not sent: not on loopback", url)
        return None
    request = urllib.request.Request(url, data=orjson.dumps(body), method="POST")
    for name, value in headers.items():
        request.add_header(name, value)
    request.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError) as e:
        log.info("webhook to %s: %s", url, e)
        return None


class Sender:
    def __init__(self):
        self._events = queue.Queue(maxsize=QUEUE_SIZE)
        self._thread = None
        self._lock = threading.Lock()

    def post(self, url, headers, body):
        try:
            self._events.put_nowait((url, headers, body))
        except queue.Full:
            log.warning("webhook queue is full: %s to %s dropped", body.get("action"), url)
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="labeldesk-webhooks",
                                                daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            try:
                item = self._events.get(timeout=30)
            except queue.Empty:
                with self._lock:  # idle: a post from now on starts a new thread
                    if self._events.empty():
                        self._thread = None
                        return
                continue
            if item is None:
                return
            post(*item)

    def stop(self):
        with self._lock:
            if self._thread is not None:
                try:
                    self._events.put_nowait(None)
                except queue.Full:
                    pass
