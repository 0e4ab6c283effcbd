"""The project summary's figures (GET /api/projects/{id}/summary: what the annotations use, per
control and label), kept current on writes as the project counters are.

An observer of the store adds and takes away each changed annotation's share of its project's
tally, inside the write. A project has a tally from its creation (it has no annotations then),
from what the last clean close saved (db/index_cache.py, taken only beside exactly the files it
was saved with), or else from its first summary, which counts its annotations. The answer lists
the keys in the order a count over the annotations by id meets them, so each key also keeps
where it was first met (annotation id, region, label); a write that takes away a key's first
place leaves that order unknown, and the next summary counts the project again. count() is
the reference the tallies are tested against.
"""

from desktop.db.docs import decode
from desktop.db.index_cache import fingerprint


def shares(annotation_id, doc):
    """What one annotation adds to its project's summary: [(key, place)], where key is
    ("a", "from|to|type") for created_annotations, ("t", from_name) for a control with labels
    in created_labels and ("l", from_name, label) for one of its labels."""
    found = []
    result = doc.get("result") or []
    for at, region in enumerate(result if isinstance(result, list) else ()):
        if not isinstance(region, dict) or "from_name" not in region:
            continue
        found.append((("a", f"{region.get('from_name')}|{region.get('to_name')}|"
                            f"{region.get('type')}"), (annotation_id, at)))
        value = region.get("value")
        labels = value.get(region.get("type")) if isinstance(value, dict) else None
        if isinstance(labels, list):
            tag = region["from_name"]
            found.append((("t", tag), (annotation_id, at)))
            found.extend((("l", tag, label), (annotation_id, at, number))
                         for number, label in enumerate(labels) if isinstance(label, str))
    return found


class Tally:
    """One project's keys: how many times each is used, and where it was first met."""

    def __init__(self):
        self.count, self.first = {}, {}
        self.ordered = True  # False once a first place went: count() again

    def add(self, key, place):
        self.count[key] = self.count.get(key, 0) + 1
        first = self.first.get(key)
        if first is None or place < first:
            self.first[key] = place

    def take(self, key, place):
        left = self.count[key] - 1
        if left:
            self.count[key] = left
            if self.first[key] == place:
                self.ordered = False
        else:
            del self.count[key], self.first[key]

    def answer(self):
        """(created_annotations, created_labels) as Projects.summary answers them."""
        annotations, labels = {}, {}
        for key in sorted(self.first, key=self.first.__getitem__):
            if key[0] == "a":
                annotations[key[1]] = self.count[key]
            elif key[0] == "t":
                labels[key[1]] = {}
        for key in sorted(self.first, key=self.first.__getitem__):
            if key[0] == "l":
                labels[key[1]][key[2]] = self.count[key]
        return annotations, labels


class Summaries:
    """The tallies of the store's projects (those it has one for: see the module's doc)."""

    def __init__(self, records):
        """Made inside the store's building() (desktop/core/records.py): a tally the last
        clean close saved is taken there."""
        self.r = records
        self.tallies = {}  # project id -> Tally
        self.cache_key = f"summaries:annotations:{fingerprint(shares)}{fingerprint(counted)}"
        storage = records.store.storage
        # the annotations already there need no call: a project's are counted when asked
        storage.observe("annotations", self._changed, existing=False, cache=self,
                        added=self._added)
        storage.observe("projects", self._project_changed, existing=False)

    # -- the index cache (db/index_cache.py) --------------------------------------------------

    def cache_state(self):
        return [[project_id, [[list(key), number, list(tally.first[key])]
                              for key, number in tally.count.items()]]
                for project_id, tally in self.tallies.items() if tally.ordered]

    def cache_load(self, state):
        tallies = {}
        for project_id, keys in state:
            tally = tallies[int(project_id)] = Tally()
            for key, number, first in keys:
                key, first = tuple(key), tuple(first)
                if not (key and key[0] in ("a", "t", "l") and isinstance(number, int)
                        and number > 0 and first):
                    raise ValueError("not a tally")
                tally.count[key], tally.first[key] = number, first
        self.tallies = tallies

    # -- writes (inside them, under the store's lock; never raising: a tally that can't be
    # kept is dropped, and counted again when next asked) -------------------------------------

    def _project_changed(self, project_id, old, new):
        if new is None:
            self.tallies.pop(project_id, None)
        elif old is None and not self.r.annotations_by_project.count(project_id):
            self.tallies[project_id] = Tally()  # a new project: nothing to count

    def _changed(self, annotation_id, old, new):
        if not self.tallies:
            return
        before = old.get("project") if old is not None else None
        after = new.get("project") if new is not None else None
        for project_id in {before, after} & self.tallies.keys():
            tally = self.tallies[project_id]
            try:
                gone = shares(annotation_id, old) if before == project_id else []
                came = shares(annotation_id, new) if after == project_id else []
                kept = set(gone) & set(came)  # an edit that leaves a key in its place
                for key, place in gone:
                    if (key, place) not in kept:
                        tally.take(key, place)
                for key, place in came:
                    if (key, place) not in kept:
                        tally.add(key, place)
            except Exception:  # noqa: BLE001 - e.g. a control's name that isn't a string
                del self.tallies[project_id]

    def _added(self, docs):
        """Annotations new to the store ({id: doc}, an import's): their shares added."""
        tallies = self.tallies
        if not tallies:
            return
        for annotation_id, doc in docs.items():
            project_id = doc.get("project")
            tally = tallies.get(project_id)
            if tally is None:
                continue
            try:
                for key, place in shares(annotation_id, doc):
                    tally.add(key, place)
            except Exception:  # noqa: BLE001 - as in _changed
                del tallies[project_id]

    def forget(self, project_id):
        """No tally for the project until its next summary (under the store's lock)."""
        self.tallies.pop(project_id, None)

    def get(self, project_id):
        """(created_annotations, created_labels) of the project; call it holding the store's
        lock."""
        tally = self.tallies.get(project_id)
        if tally is None or not tally.ordered:
            tally = self.tallies[project_id] = counted(self.r, project_id)
        return tally.answer()


def counted(records, project_id):
    """A project's Tally from its annotations, in id order: shares() of each, added (a key's
    first place is where it is first met), in one loop as count() makes it."""
    tally = Tally()
    number, first = tally.count, tally.first
    raw = records.annotations.docs().raw  # each decoded here, once
    for annotation_id in records.annotations_by_project.ids(project_id):
        result = decode(raw[annotation_id]).get("result") or []
        for at, region in enumerate(result if isinstance(result, list) else ()):
            if not isinstance(region, dict) or "from_name" not in region:
                continue
            found = [("a", f"{region.get('from_name')}|{region.get('to_name')}|"
                           f"{region.get('type')}")]
            value = region.get("value")
            labels = value.get(region.get("type")) if isinstance(value, dict) else None
            if isinstance(labels, list):
                tag = region["from_name"]
                found.append(("t", tag))
                for place, label in enumerate(labels):
                    if isinstance(label, str):
                        key = ("l", tag, label)
                        if key in number:
                            number[key] += 1
                        else:
                            number[key], first[key] = 1, (annotation_id, at, place)
            for key in found:
                if key in number:
                    number[key] += 1
                else:
                    number[key], first[key] = 1, (annotation_id, at)
    return tally


def count(records, project_id):
    """(created_annotations, created_labels) counted over the project's annotations by id: the
    reference the tallies must equal."""
    created_annotations, created_labels = {}, {}
    for annotation_id in records.annotations_by_project.ids(project_id):
        result = records.annotations.doc(annotation_id).get("result") or []
        for region in result if isinstance(result, list) else ():
            if not isinstance(region, dict) or "from_name" not in region:
                continue
            key = f"{region.get('from_name')}|{region.get('to_name')}|{region.get('type')}"
            created_annotations[key] = created_annotations.get(key, 0) + 1
            value = region.get("value")
            labels = value.get(region.get("type")) if isinstance(value, dict) else None
            if isinstance(labels, list):
                per_tag = created_labels.setdefault(region["from_name"], {})
                for label in labels:
                    if isinstance(label, str):
                        per_tag[label] = per_tag.get(label, 0) + 1
    return created_annotations, created_labels
