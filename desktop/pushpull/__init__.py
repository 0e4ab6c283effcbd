"""Hand a project over to a Label Studio server, and bring one back: `labeldesk push` / `pull`.

push: creates the project on Label Studio with the same label config and settings, uploads the
media the tasks point at (/data/upload/...), imports the tasks with their annotations and
predictions, and returns the mapping of ids. pull: the reverse, into a LabelDesk project.
Run by the CLI with the app closed, or as background jobs of the running app (jobs.py: the
Team server page, /api/ui/handovers, and the CLI beside a running LabelDesk).

Idempotent and resumable. A mapping file per (data folder, server, project) lives in
<data dir>/pushpull/<hash>.json, written atomically after every batch: local <-> remote ids of
tasks, annotations, predictions and media files. A re-run skips what the mapping has, sends what
is new (tasks, annotations, predictions; annotations changed since the last run are updated) and
never duplicates. What a crash can leave unrecorded is found again on the server:
- every pushed task carries meta.labeldesk_id (the local task id) and every pushed annotation
  its local id as import_id (Label Studio's field for it), so the mapping is rebuilt from the
  server when a batch was cut short, when the remote task count disagrees with the mapping, or
  when the mapping file is gone (`--project-id` names the remote project then); a task imported
  twice by a retried request is deleted again;
- pulled batches are one LabelDesk transaction each: a batch noted as pending in the mapping is
  either all there (adopted) or not at all (imported again).

Media on push. Label Studio stores uploads as /data/upload/<project>/<8 hex>-<name> and only
accepts them through its import endpoint, which also parses them as tasks. With
commit_to_project=false the files are kept as file uploads and no task is made; that parse only
works while the project's config has at most one data key, so a new project is created without
its config, gets its media, then its config. Files added to a project that already has a
multi-key config go through a placeholder upload (a tiny JSON file, uncommitted) whose file is
then replaced with PATCH /api/import/file-upload/{id}. Either way the task data are rewritten to
the URLs Label Studio gave, and annotations stay attached because tasks are imported as JSON
with them.
"""

from desktop.pushpull.handover import Cancelled, Interrupted, PushPullError
from desktop.pushpull.mapping import Mapping
from desktop.pushpull.puller import Puller, pull
from desktop.pushpull.pusher import Pusher, push

__all__ = ["Cancelled", "Interrupted", "Mapping", "Puller", "PushPullError", "Pusher", "pull",
           "push"]
