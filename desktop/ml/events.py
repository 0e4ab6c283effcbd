"""Annotation events to the models' /webhook, as Label Studio sends them.

The payload is built when the annotation changes (the data is at hand) and sent later by a
worker thread, so a slow or dead model never holds up a save. A model found down is skipped for
a while (MLBackends.is_down), and a full queue drops events rather than grow without bound.
"""

import logging
import queue
import threading

log = logging.getLogger("labeldesk.ml")

WEBHOOK_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
QUEUE_SIZE = 10000


class ModelEvents:
    def __init__(self, ml):
        self.ml = ml
        self.core = ml.core
        self.r = ml.r
        self._events = queue.Queue(maxsize=QUEUE_SIZE)
        self._sender = None
        self._pending = {}  # project id -> events queued and not answered yet
        self._sent = threading.Condition()
        # callbacks (backend id, payload, MLResult) once a model answered an event (teach
        # mode's answer carries its new ranking of the project's tasks)
        self.on_answer = []
        self.core.annotations.on_change.append(self._annotation_changed)

    def _annotation_changed(self, event, annotation_id, doc):
        try:
            self._queue_event(event, annotation_id, doc)
        except Exception:  # never let a model notification fail a save
            log.exception("ML webhook for %s %s", event, annotation_id)

    def _queue_event(self, event, annotation_id, doc):
        if event not in WEBHOOK_EVENTS:
            return
        project_id, task_id = doc["project"], doc["task"]
        if not self.ml.of_project(project_id):
            return
        payload = self._payload(event, annotation_id, project_id, task_id)
        for backend_id in self.ml.of_project(project_id):
            try:
                with self._sent:
                    self._pending[project_id] = self._pending.get(project_id, 0) + 1
                self._events.put_nowait((backend_id, payload))
            except queue.Full:
                self._done(project_id)
                log.warning("ML webhook queue is full: %s for backend %s dropped", event,
                            backend_id)
        if self._sender is None or not self._sender.is_alive():
            self._sender = threading.Thread(target=self._send_events, name="labeldesk-ml-events",
                                            daemon=True)
            self._sender.start()

    def _payload(self, event, annotation_id, project_id, task_id):
        core = self.core
        payload = {"action": event, "project": core.projects.as_json(project_id)}
        if event == "ANNOTATIONS_DELETED":
            payload["annotations"] = [{"id": annotation_id}]
        else:
            payload["annotation"] = core.annotations.as_json(annotation_id)
            if self.r.tasks.doc(task_id) is not None:
                payload["task"] = core.tasks.base_json(task_id)
        return payload

    def wait_sent(self, project_id, timeout):
        """Wait (at most `timeout` seconds) until the events of the project queued so far
        were answered by its models."""
        with self._sent:
            self._sent.wait_for(lambda: not self._pending.get(project_id), timeout)

    def _done(self, project_id):
        with self._sent:
            left = self._pending.get(project_id, 1) - 1
            if left > 0:
                self._pending[project_id] = left
            else:
                self._pending.pop(project_id, None)
            self._sent.notify_all()

    def _send_events(self):
        while True:
            try:
                backend_id, payload = self._events.get(timeout=60)
            except queue.Empty:
                return
            try:
                self._send(backend_id, payload)
            except Exception:  # a bug in a callback: the next events still go
                log.exception("ML webhook %s for backend %s", payload.get("action"), backend_id)
            finally:
                self._done(payload["project"]["id"])

    def _send(self, backend_id, payload):
        with self.r.lock:
            doc = self.r.ml_backends.doc(backend_id)
            doc = dict(doc) if doc else None
        if doc is None or self.ml.is_down(backend_id):
            return
        result = self.ml.api(doc).webhook(payload)
        if result.unreachable:
            self.ml.mark_down(backend_id)
        if result.is_error:
            log.info("ML backend %s /webhook %s: %s", backend_id, payload["action"],
                     result.error)
        for callback in self.on_answer:
            callback(backend_id, payload, result)
