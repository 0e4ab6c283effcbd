"""ML backends: Label Studio's model-server protocol, pre-labeling, batch predictions.

A model server is never called while the store lock is held: a dead or slow model costs the
request that asked for it (bounded by the protocol's time-outs), never anyone else's. Batch
predictions run in background jobs, one project at a time, in batches, with progress, and can be
cancelled (desktop/ml/jobs.py). Annotation events reach the model's /webhook through a
background queue (desktop/ml/events.py). The protocol itself is desktop/ml/client.py.
"""

import logging
import os
import random
import time
from datetime import datetime

from desktop.core import clock
from desktop.core.errors import LabelDeskError, NotFound, ValidationError
from desktop.core.records import locked
from desktop.ml.client import MLApi, check_url
from desktop.ml.events import ModelEvents
from desktop.ml.jobs import Jobs, ModelDown

log = logging.getLogger("labeldesk.ml")

STATES = {"CO": "Connected", "DI": "Disconnected", "ER": "Error", "TR": "Training",
          "PR": "Predicting"}
AUTH_METHODS = ("NONE", "BASIC_AUTH")
# /next waits this long at most for a model (ML_TIMEOUT_NEXT); a model found down is not asked
# again for DOWN_BACKOFF seconds, so labeling with a dead model costs nothing.
TIMEOUT_NEXT = float(os.environ.get("ML_TIMEOUT_NEXT", 10))
DOWN_BACKOFF = 30.0
ACTION_WAIT = float(os.environ.get("ML_ACTION_WAIT", 30))
LEARN_WAIT = 2.0  # /next waits this long at most for a learning model to get the last submit
RECHECK = 30.0  # /next's pre-labeling re-checks a model found connected this long ago
LEARN_MORE = ('<a href="https://labelstud.io/guide/ml.html">Learn more</a> about how to set up '
              "an ML backend.")


def project_uid(project_id, project):
    """Label Studio's model-server project key: "<id>.<created_at as a unix timestamp>"."""
    try:
        stamp = int(datetime.fromisoformat(project["created_at"].replace("Z", "+00:00"))
                    .timestamp())
    except (KeyError, TypeError, ValueError):
        stamp = 0
    return f"{project_id}.{stamp}"


def _bool(fields, key, default):
    value = fields.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if not isinstance(value, bool):
        raise ValidationError({key: ["Must be a valid boolean."]})
    return value


def _predictions(tasks, items, version):
    """([prediction fields], errors) from a model's answer items, one item per task."""
    found, errors = [], []
    for task, item in zip(tasks, items):
        for one in ([item] if isinstance(item, dict) else item if isinstance(item, list)
                    else [None]):
            if not isinstance(one, dict) or "result" not in one:
                errors.append("ML backend returns an incorrect prediction, it should be a "
                              f"dict with the 'result' field: {str(one)[:300]}")
                continue
            found.append({"task": task["id"], "result": one["result"],
                          "score": one.get("score"),
                          "model_version": str(one.get("model_version") or version)})
    return found, errors


def _timeout(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValidationError({"timeout": ["A valid number is required."]}) from None
    if not 0 < value <= 24 * 3600:
        raise ValidationError({"timeout": ["Ensure this value is between 0 and 86400."]})
    return value


class MLBackends:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self.jobs = Jobs(self)
        self._down_until = {}  # backend id -> monotonic time before which it is not asked
        self._connected_at = {}  # backend id -> monotonic time it was last found connected
        # a model server LabelDesk runs itself (desktop/assistants): local_server(doc) -> (the
        # URL it is at now: its port changes with each start, its Basic-auth credentials) or
        # None; used for the backends whose record names an `assistant`
        self.local_server = None
        self.events = ModelEvents(self)
        core.imports.on_created.append(self._tasks_imported)

    # -- records --------------------------------------------------------------------------

    @locked
    def get(self, backend_id):
        doc = self.r.ml_backends.doc(backend_id) if isinstance(backend_id, int) else None
        if doc is None:
            raise NotFound("MLBackend")
        return doc

    @locked
    def as_json(self, backend_id, doc=None):
        doc = doc or self.get(backend_id)
        state = doc.get("state", "DI")
        return {"id": backend_id, "state": state, "readable_state": STATES.get(state, state),
                "is_interactive": doc.get("is_interactive", False), "url": doc["url"],
                "error_message": doc.get("error_message"), "title": doc.get("title"),
                "auth_method": doc.get("auth_method", "NONE"),
                "basic_auth_user": doc.get("basic_auth_user") or "",
                "basic_auth_pass_is_set": bool(doc.get("basic_auth_pass")),
                "description": doc.get("description") or "",
                "extra_params": doc.get("extra_params"),
                "model_version": doc.get("model_version") or "",
                "timeout": doc.get("timeout", 100.0), "created_at": doc["created_at"],
                "updated_at": doc["updated_at"], "auto_update": doc.get("auto_update", True),
                "project": doc["project"]}

    @locked
    def of_project(self, project_id, check=False):
        """The project's backends, by id; with `check`, 404 when there is no such project."""
        if check:
            self.core.projects.get(project_id)
        return sorted(i for i, d in self.r.ml_backends.docs().items()
                      if d["project"] == project_id)

    def is_down(self, backend_id):
        """Found down less than DOWN_BACKOFF seconds ago: not asked again yet."""
        return self._down_until.get(backend_id, 0) > time.monotonic()

    def mark_down(self, backend_id):
        self._down_until[backend_id] = time.monotonic() + DOWN_BACKOFF
        self._connected_at.pop(backend_id, None)

    def recently_connected(self, backend_id):
        """The backend's record when it was found connected less than RECHECK seconds ago
        (the label stream then asks it at once, without health and setup first), else None."""
        if time.monotonic() - self._connected_at.get(backend_id, -RECHECK) >= RECHECK:
            return None
        with self.r.lock:
            doc = self.r.ml_backends.doc(backend_id)
            return dict(doc) if doc is not None and doc.get("state") == "CO" else None

    def api(self, doc):
        auth = (doc.get("basic_auth_user"), doc.get("basic_auth_pass")) \
            if doc.get("auth_method") == "BASIC_AUTH" else None
        url = doc["url"]
        if doc.get("assistant") and self.local_server is not None:
            url, auth = self.local_server(doc) or (url, auth)
        return MLApi(url, timeout=doc.get("timeout"), basic_auth=auth)

    def _clean(self, fields, partial):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        clean = {}
        if "url" not in fields and not partial:
            raise ValidationError({"url": ["This field is required."]})  # LS's serializer
        if "url" in fields:
            problem = check_url(fields["url"])
            if problem:
                raise ValidationError({"url": [problem]})
            clean["url"] = fields["url"].strip()
        for key in ("title", "description", "basic_auth_user", "basic_auth_pass"):
            if key in fields:
                value = fields[key]
                if value is not None and not isinstance(value, str):
                    raise ValidationError({key: ["Not a valid string."]})
                clean[key] = value
        if "auth_method" in fields:
            if fields["auth_method"] not in AUTH_METHODS:
                raise ValidationError({"auth_method": [
                    f'"{fields["auth_method"]}" is not a valid choice.']})
            clean["auth_method"] = fields["auth_method"]
        for key, default in (("is_interactive", False), ("auto_update", True)):
            if key in fields:
                clean[key] = _bool(fields, key, default)
        if "timeout" in fields:
            clean["timeout"] = _timeout(fields["timeout"])
        if "extra_params" in fields:
            if fields["extra_params"] is not None and not isinstance(fields["extra_params"],
                                                                     (dict, list)):
                raise ValidationError({"extra_params": ["Value must be valid JSON."]})
            clean["extra_params"] = fields["extra_params"]
        if "model_version" in fields:
            clean["model_version"] = str(fields["model_version"] or "")
        return clean

    # -- connecting -----------------------------------------------------------------------

    def _setup_args(self, project_id):
        """(project uid, label config, hostname, access token), read under the store lock."""
        with self.r.lock:
            project = self.core.projects.get(project_id)
            creator = project.get("created_by")
            token = ""
            try:
                token = self.core.users.get(creator)["token"] if creator else ""
            except LabelDeskError:
                pass
            settings = self.core.settings
            hostname = getattr(self.core, "base_url", None) or \
                f"http://localhost:{settings.port}"
            return project_uid(project_id, project), project["label_config"], hostname, token

    def connect(self, doc):
        """Health check, then setup: (state, model_version from setup, error message)."""
        api = self.api(doc)
        health = api.health()
        if health.is_error:
            return "DI", None, health.error
        uid, config, hostname, token = self._setup_args(doc["project"])
        setup = api.setup(uid, config, hostname, token, doc.get("extra_params"))
        if setup.is_error:
            return "ER", None, setup.error
        version = setup.response.get("model_version") if isinstance(setup.response, dict) \
            else None
        return "CO", version, None

    def validate_connection(self, doc):
        """Label Studio's checks when a backend is added or its URL changes: a 400 that says
        what is wrong with the server."""
        api = self.api(doc)
        health = api.health()
        if health.status == 401:
            raise ValidationError("Able to connect to ML Server, but authentication parameters "
                                  "were either not provided or are incorrect.")
        if health.is_error:
            raise ValidationError(
                f"Can't connect to ML backend {doc['url']}, health check failed. Make sure it is "
                f"up and your firewall is properly configured. {LEARN_MORE} "
                f"Additional info: {health.error}")
        uid, config, hostname, token = self._setup_args(doc["project"])
        setup = api.setup(uid, config, hostname, token, doc.get("extra_params"))
        if setup.is_error:
            raise ValidationError(
                f"Successfully connected to {doc['url']} but it doesn't look like a valid ML "
                f"backend. Reason: {setup.error}.\nCheck the ML backend server console logs to "
                "check the status. There might be something wrong with your model or it might "
                "be incompatible with the current labeling configuration.")
        return setup.response.get("model_version") if isinstance(setup.response, dict) else None

    def update_state(self, backend_id):
        """Re-contact the model server (as Label Studio does on every list and get)."""
        with self.r.lock:
            doc = dict(self.get(backend_id))
        state, version, error = self.connect(doc)
        changes = {"state": state, "error_message": error}
        if state == "CO" and doc.get("auto_update", True):
            changes["model_version"] = str(version) if version is not None else ""
        if state != "CO":
            self.mark_down(backend_id)
            self._connected_at.pop(backend_id, None)
        else:
            self._down_until.pop(backend_id, None)
            self._connected_at[backend_id] = time.monotonic()
        with self.r.lock:
            current = self.r.ml_backends.doc(backend_id)
            if current is None:
                raise NotFound("MLBackend")
            changes = {k: v for k, v in changes.items() if current.get(k) != v}
            if changes:
                changes["updated_at"] = clock.iso()
                self.r.ml_backends.update(changes, doc_ids=[backend_id])
            return dict(self.r.ml_backends.doc(backend_id))

    # -- CRUD -----------------------------------------------------------------------------

    def create(self, fields, marks=None):
        """A new backend from the API's fields; `marks`: LabelDesk's own fields of its record
        (an assistant's name, `learning`), set before the server is first contacted."""
        clean = self._clean(fields, partial=False)
        project_id = fields.get("project")
        with self.r.lock:
            if project_id is None:
                raise ValidationError({"project": ["This field is required."]})
            if not isinstance(project_id, int) or self.r.projects.doc(project_id) is None:
                raise ValidationError({"project": [f'Invalid pk "{project_id}" - object does '
                                                   "not exist."]})
        stamp = clock.iso()
        doc = {"project": project_id, "title": "default", "description": "",
               "is_interactive": False, "auth_method": "NONE", "basic_auth_user": "",
               "basic_auth_pass": "", "extra_params": None, "model_version": "",
               "timeout": 100.0, "auto_update": True, "state": "DI", "error_message": None,
               "created_at": stamp, "updated_at": stamp}
        doc.update(clean)
        doc.update(marks or {})
        version = self.validate_connection(doc)  # network: outside the store lock
        doc["state"] = "CO"
        if doc["auto_update"] or not doc["model_version"]:
            doc["model_version"] = str(version) if version is not None else ""
        with self.r.transaction():
            project = self.core.projects.get(project_id)
            backend_id = self.r.ml_backends.insert(doc)
            if project.get("show_collab_predictions", True) and not project.get("model_version"):
                self.r.projects.update({"model_version": doc["title"] or ""},
                                       doc_ids=[project_id])
        return backend_id

    def update(self, backend_id, fields):
        clean = self._clean(fields, partial=True)
        with self.r.lock:
            doc = dict(self.get(backend_id))
        if doc.get("assistant") and clean.get("url", doc["url"]) != doc["url"]:
            clean.update(assistant=None, learning=False)  # the user's own server from now on
        if "url" in clean or "auth_method" in clean or "basic_auth_pass" in clean:
            self.validate_connection({**doc, **clean})
        with self.r.transaction():
            doc = self.get(backend_id)
            old_title = doc.get("title")
            clean["updated_at"] = clock.iso()
            self.r.ml_backends.update(clean, doc_ids=[backend_id])
            project = self.r.projects.doc(doc["project"])
            if "title" in clean and project and project.get("model_version") == old_title \
                    and clean["title"] != old_title:
                self.r.projects.update({"model_version": clean["title"] or ""},
                                       doc_ids=[doc["project"]])
        return self.update_state(backend_id)

    def delete(self, backend_id):
        with self.r.transaction():
            doc = self.get(backend_id)
            self.r.ml_backends.remove(doc_ids=[backend_id])
            project = self.r.projects.doc(doc["project"])
            if project and project.get("model_version") == doc.get("title"):
                self.r.projects.update({"model_version": ""}, doc_ids=[doc["project"]])
        self.jobs.cancel_backend(backend_id)

    def delete_project(self, project_id):
        """Called inside the project's delete transaction."""
        ids = self.of_project(project_id)
        self.r.ml_backends.remove(doc_ids=ids)
        for backend_id in ids:
            self.jobs.cancel_backend(backend_id)

    # -- predictions ----------------------------------------------------------------------

    def serialize_task(self, task_id, interactive=False):
        core = self.core
        data = core.tasks.base_json(task_id)
        data["annotations"] = [core.annotations.as_json(i, a)
                               for i, a in core.tasks.annotations_of(task_id)]
        data["predictions"] = [core.predictions.as_json(i, p)
                               for i, p in core.tasks.predictions_of(task_id)]
        if interactive:
            data["drafts"] = []
        return data

    def _predict_request(self, doc, tasks, context=None, timeout=None):
        with self.r.lock:
            project = self.core.projects.get(doc["project"])
            uid = project_uid(doc["project"], project)
            config = project["label_config"]
            login, password = project.get("task_data_login"), project.get("task_data_password")
        return self.api(doc).predict(tasks, uid, config, context=context, login=login,
                                     password=password, timeout=timeout)

    def fetch_predictions(self, doc, tasks, timeout=None):
        """Ask the model for predictions of serialized tasks: ([prediction fields], errors).

        Label Studio's rules: one answer item per task, in order; an item may be a list of
        several predictions; items without "result" are skipped; a single answer for many tasks
        means the server can't batch, so the tasks go one by one. Raises ModelDown when the
        server can't be reached at all."""
        result = self._predict_request(doc, tasks, timeout=timeout)
        if result.unreachable:
            raise ModelDown(result.error)
        if result.is_error:
            return [], [result.error]
        answer = result.response
        if not isinstance(answer, dict) or "results" not in answer:
            return [], ["ML backend returns an incorrect response, it must be a dict with "
                        f"\"results\": {str(answer)[:300]}"]
        items = answer["results"]
        if not isinstance(items, list) or not items:
            return [], ["ML backend returns an incorrect response, results field must be a "
                        "list with at least one item"]
        if len(items) != len(tasks):
            if len(items) == 1 and len(tasks) > 1:
                found, errors = [], []
                for task in tasks:
                    more, problems = self.fetch_predictions(doc, [task], timeout)
                    found.extend(more)
                    errors.extend(problems)
                return found, errors
            return [], [f"Number of tasks and responses are not equal: {len(tasks)} tasks != "
                        f"{len(items)} responses."]
        version = doc.get("model_version") or answer.get("model_version") or ""
        return _predictions(tasks, items, version)

    def store_predictions(self, found, replace=False):
        """Write model predictions; a result the label config can't take is reported, not
        stored. With `replace`, a task's earlier predictions of the same model version go.
        Returns (stored count, errors)."""
        errors, docs, replaced = [], [], set()
        with self.r.transaction():
            if replace:
                for fields in found:
                    old = [i for i, p in self.core.tasks.predictions_of(fields["task"])
                           if p.get("model_version") == fields["model_version"]]
                    if old:
                        self.r.predictions.remove(doc_ids=old)
                        replaced.add(fields["task"])
            for fields in found:
                task = self.r.tasks.doc(fields["task"])
                if task is None:
                    continue
                try:
                    docs.append(self.core.predictions.build(fields["task"], task, fields))
                except ValidationError as e:
                    errors.append(f"task {fields['task']}: {e.errors}")
            if docs:
                self.r.predictions.insert_multiple(docs)
            for task_id in {d["task"] for d in docs} | replaced:
                self.core.tasks.recount(task_id)
        return len(docs), errors

    def needs_prediction(self, task_id, version):
        return not any(p.get("model_version") == version
                       for _, p in self.core.tasks.predictions_of(task_id))

    def main_backend(self, project_id):
        """The backend Label Studio uses for a project's automatic predictions: its first."""
        ids = self.of_project(project_id)
        return ids[0] if ids else None

    def retrieve_predictions(self, project_id, task_ids, backend_id=None, batch_size=None):
        """The data manager's "Retrieve Predictions": a background job over the tasks."""
        backend_id = backend_id or self.main_backend(project_id)
        if backend_id is None:
            raise ValidationError("No ML backend is connected to this project. Add one in the "
                                  "project settings (Model) first.")
        job = self.jobs.start(backend_id, project_id, list(task_ids), batch_size)
        count = len(task_ids)
        return {"processed_items": count,
                "detail": f"Retrieving predictions for {count} tasks in the background",
                "job": job.as_json()}

    def finish_action(self, answer, wait=None):
        """Wait (outside the store lock) for a small "Retrieve Predictions" job, so that
        scripts see Label Studio's synchronous answer; a large one stays in the background."""
        job_info = answer.get("job") if isinstance(answer, dict) else None
        if not job_info:
            return answer
        job = self.jobs.get(job_info["id"])
        job.done.wait(ACTION_WAIT if wait is None else wait)
        answer["job"] = job.as_json()
        if job.status == "completed":
            answer["detail"] = f"Retrieved {answer['processed_items']} predictions"
        elif job.status == "failed":
            answer["detail"] = f"Retrieving predictions failed: {job.error}"
        return answer

    def before_next(self, project_id):
        """Before /next picks a task: a model that learns on submit (a backend marked
        `learning`, teach mode) has the annotations saved so far, so its ranking counts them.
        Bounded (LEARN_WAIT), never under the store lock."""
        with self.r.lock:
            learning = any(self.r.ml_backends.doc(i).get("learning")
                           for i in self.of_project(project_id))
        if learning:
            self.events.wait_sent(project_id, LEARN_WAIT)

    def predict_next(self, project_id, task_id):
        """Before /next shows a task: pre-label it if the project asks for it (Label Studio's
        evaluate_predictions_automatically). Bounded, and skipped while the model is down. A
        model that learns on submit predicts the task again (its guess has changed since), and
        its new prediction replaces its earlier one."""
        with self.r.lock:
            project = self.r.projects.doc(project_id)
            if not project or not project.get("evaluate_predictions_automatically"):
                return
            backend_id = self.main_backend(project_id)
        if backend_id is None or self.is_down(backend_id):
            return
        try:
            doc = self.recently_connected(backend_id) or self.update_state(backend_id)
            if doc.get("state") != "CO":
                return
            learning = bool(doc.get("learning"))
            with self.r.lock:
                if self.r.tasks.doc(task_id) is None or (not learning and not
                        self.needs_prediction(task_id, doc.get("model_version") or "")):
                    return
                task = self.serialize_task(task_id)
            found, errors = self.fetch_predictions(doc, [task], timeout=TIMEOUT_NEXT)
            self.store_predictions(found, replace=learning)
            for error in errors:
                log.warning("ML backend %s, task %s: %s", backend_id, task_id, error)
        except ModelDown as e:
            self.mark_down(backend_id)
            log.warning("ML backend %s is down: %s", backend_id, e)
        except LabelDeskError:
            pass

    def _tasks_imported(self, project_id, task_ids):
        try:
            self._predict_imported(project_id, task_ids)
        except Exception:  # never let pre-labeling fail an import
            log.exception("automatic predictions for project %s", project_id)

    def _predict_imported(self, project_id, task_ids):
        project = self.r.projects.doc(project_id)
        if not task_ids or not project or not project.get("evaluate_predictions_automatically"):
            return
        backend_id = self.main_backend(project_id)
        if backend_id is not None:
            self.jobs.start(backend_id, project_id, list(task_ids), defer=True)

    def predict_test(self, backend_id):
        """POST /api/ml/{id}/predict/test?random=true: one random task, the raw exchange."""
        with self.r.lock:
            doc = dict(self.get(backend_id))
            ids = self.core.tasks.ids(doc["project"])
            if not ids:
                raise ValidationError("Project has no tasks to run prediction on, import at "
                                      "least 1 task to run prediction")
            task = self.serialize_task(random.choice(ids))
        result = self._predict_request(doc, [task])
        if result.is_error:
            raise ValidationError("ML backend did not return any predictions, check ML backend "
                                  f"logs for more details. {result.error}")
        results = result.response.get("results") if isinstance(result.response, dict) else None
        return {"status": result.status, "error_message": result.error,
                "url": result.url, "task": task, "request": result.request, "response": results}

    def interactive(self, backend_id, fields):
        """POST /api/ml/{id}/interactive-annotating {"task", "context"}."""
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        task_id = fields.get("task")
        if task_id is None:
            raise ValidationError({"task": ["This field is required."]})
        context = fields.get("context")
        if context is not None and not isinstance(context, dict):
            raise ValidationError({"context": ["Value must be valid JSON."]})
        with self.r.lock:
            doc = dict(self.get(backend_id))
            task = self.r.tasks.doc(task_id) if isinstance(task_id, int) else None
            if task is None or task["project"] != doc["project"]:
                raise NotFound("Task")
            if not doc.get("is_interactive"):
                return {"errors": ["Model is not set to be used for interactive preannotations"]}
            serialized = self.serialize_task(task_id, interactive=True)
        result = self._predict_request(doc, [serialized], context=context or {})
        if result.is_error:
            return {"errors": [result.error]}
        if not isinstance(result.response, dict) or "results" not in result.response:
            return {"errors": ["Incorrect response from ML service: ML backend returns an "
                               "incorrect response, it must be a dict."]}
        results = result.response["results"]
        if not isinstance(results, list) or not results:
            return {"errors": ["Incorrect response from ML service: ML backend has to return "
                               "list with more than 1 result."]}
        return {"data": results[0]}

    def predict_all(self, backend_id, batch_size=None):
        """Every task of the backend's project predicted by a background job (the SDK's
        predict_all_tasks); the Job, started."""
        with self.r.lock:
            doc = self.get(backend_id)
            ids = list(self.core.tasks.ids(doc["project"]))
        return self.jobs.start(backend_id, doc["project"], ids, batch_size)

    def versions(self, backend_id):
        with self.r.lock:
            doc = dict(self.get(backend_id))
        uid = self._setup_args(doc["project"])[0]
        result = self.api(doc).versions(uid)
        if not result.is_error:
            versions = result.response.get("versions", []) if isinstance(result.response,
                                                                         dict) else []
            return {"versions": versions}
        if result.status in (404, 405):  # older servers: no GET /versions
            return {"versions": [doc.get("model_version") or ""],
                    "message": "Upgrade your ML backend version to latest."}
        raise ValidationError(f"Can't get the model versions: {result.error}")

    # -- training -------------------------------------------------------------------------

    def train(self, backend_id):
        """START_TRAINING through /webhook; servers without a webhook get the old /train."""
        with self.r.lock:
            doc = dict(self.get(backend_id))
            project_json = self.core.projects.as_json(doc["project"])
        api = self.api(doc)
        result = api.webhook({"action": "START_TRAINING", "project": project_json})
        if result.status in (404, 405):
            with self.r.lock:
                project = self.core.projects.get(doc["project"])
                tasks = [self.core.tasks.export_json(i, self.core.annotations.export_json)
                         for i in self.core.tasks.ids(doc["project"])
                         if self.r.tasks.doc(i).get("total_annotations")]
                uid = project_uid(doc["project"], project)
            result = api.train(tasks, uid, project["label_config"],
                               project.get("task_data_login"), project.get("task_data_password"))
        state = "ER" if result.is_error else "TR"
        with self.r.lock:
            if self.r.ml_backends.doc(backend_id) is not None:
                self.r.ml_backends.update({"state": state, "error_message": result.error,
                                           "updated_at": clock.iso()}, doc_ids=[backend_id])
        if result.is_error:
            raise ValidationError(f"Training could not be started: {result.error}")
        return result.response
