"""Teach mode: a linear text classifier that learns from every submit and says which task it is
least sure of, for `<Text>` + single-choice `<Choices>` projects.

Plain numpy (no scikit-learn, whose scipy would add ~100 MB to the AppImage): each text becomes
the set of its words and word pairs, looked up in a growing vocabulary; the model is
multinomial naive Bayes (a linear model in log space), whose counts an annotation updates
exactly, in any order, with no learning rate to tune. It learns more from a few hundred labels
than logistic regression by SGD did on the benchmark's verses (docs/adr/0012-assistants.md),
and an update touches one label's counts of one text's words, which keeps re-ranking cheap:
every project's texts stay indexed, their scores are brought up to date by adding what the
update changed, and the tasks the model is least sure of are those whose two likeliest labels
are closest (margin sampling).

The project shows labels seen and progressive-validation accuracy: each annotation is first
predicted, then learned, and the accuracy counts those predictions on labels not yet seen.
"""

import re
import threading

NAME = "teach"
TITLE = "Teach mode"
VERSION = "1.0"
LIGHT = True
NEEDS = "`pip install 'labeldesk[assistants]'` (numpy)"

TOKEN = re.compile(r"\w+", re.UNICODE)
SMOOTHING = 0.5  # added to every word count (Lidstone); the benchmark's best of 0.1-1
RANKED = 200  # how many of the least sure tasks a re-rank returns
FREQUENT = 64  # words kept as dense columns (see Learner._by_feature)


def missing():
    try:
        import numpy  # noqa: F401
    except ImportError as e:
        return f"numpy can't be imported: {e}"
    return None


def fits(label_config):
    """A single-choice <Choices> on a <Text>: {"from_name", "to_name", "type", "value" (the data
    key), "labels"}; None when the config has none."""
    from desktop.labelconfig import LabelConfigError, parse
    try:
        config = parse(label_config)
    except (LabelConfigError, ValueError, TypeError):
        return None
    for name, info in config.parsed.items():
        control = config.controls[name]
        if info["type"] != "Choices" or control.attrs.get("choice") == "multiple":
            continue
        if len(info["labels"]) < 2 or info.get("dynamic_labels"):
            continue
        for source in info["inputs"]:
            if source.get("type") == "Text" and source.get("value"):
                to_name = next(n for n in info["to_name"]
                               if config.objects.get(n) and config.objects[n].tag == "Text")
                return {"from_name": name, "to_name": to_name, "type": "choices",
                        "value": source["value"], "labels": list(info["labels"])}
    return None


def load():
    return Teacher()


def text_of(task, fit):
    value = (task.get("data") or {}).get(fit["value"])
    return value if isinstance(value, str) else "" if value is None else str(value)


def label_of(annotation, fit):
    """The choice an annotation made in the fitted control, or None (skipped, other control)."""
    if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
        return None
    for result in annotation.get("result") or []:
        if isinstance(result, dict) and result.get("from_name") == fit["from_name"]:
            choices = (result.get("value") or {}).get("choices")
            if isinstance(choices, list) and choices and choices[0] in fit["labels"]:
                return choices[0]
    return None


def predict(model, tasks, fit, context=None):
    learner = model.learner(fit)
    with learner.lock:
        learner.add([(t.get("id"), text_of(t, fit)) for t in tasks if t.get("id") is not None])
        out = []
        for task in tasks:
            probs = learner.probabilities(text_of(task, fit))
            best = int(probs.argmax())
            out.append({"result": [{"from_name": fit["from_name"], "to_name": fit["to_name"],
                                    "type": "choices",
                                    "value": {"choices": [learner.labels[best]]}}],
                        "score": float(probs[best]), "model_version": f"{NAME}-{VERSION}"})
        return out


def update(model, task, annotation, fit):
    label = label_of(annotation, fit)
    if label is None or not isinstance(task, dict):
        return
    learner = model.learner(fit)
    with learner.lock:
        learner.learn(task.get("id"), text_of(task, fit), label)


def index(model, tasks, fit):
    """Index a project's tasks (with their annotations, as Label Studio exports them) and learn
    from the labels already there, in the order they were made."""
    learner = model.learner(fit)
    with learner.lock:
        learner.add([(t.get("id"), text_of(t, fit)) for t in tasks if t.get("id") is not None])
        made = []
        for task in tasks:
            for annotation in task.get("annotations") or []:
                label = label_of(annotation, fit)
                if label is not None:
                    made.append((str(annotation.get("created_at") or ""), task, label))
        made.sort(key=lambda item: item[0])
        for _, task, label in made:
            learner.learn(task.get("id"), text_of(task, fit), label)


def rank(model, fit, limit=RANKED):
    """The indexed tasks not taught yet, least sure first: [[task id, margin, guess, score]]."""
    learner = model.learner(fit)
    with learner.lock:
        return learner.rank(limit)


def stats(model, fit):
    learner = model.learner(fit)
    with learner.lock:
        return learner.stats()


class Teacher:
    """The model of the worker: one learner per project (its key and labels)."""

    def __init__(self):
        self.learners = {}
        self.lock = threading.Lock()

    def learner(self, fit):
        key = (fit.get("project"), fit["from_name"], tuple(fit["labels"]))
        with self.lock:
            if key not in self.learners:
                self.learners[key] = Learner(fit["labels"])
            return self.learners[key]


class Learner:
    """One project's classifier and its index of the project's texts.

    score(text, label) = sum over the text's features f of log(count[f, label] + a)
                         - len(features) * log(total[label] + a * V) + log prior(label)
    The first sum of every indexed task is kept in `raw` and brought up to date after each
    update by walking the tasks that contain the words just counted (kept by feature); the
    rest is per label and per text length, computed for all tasks at once when ranking. The
    most frequent words are kept as dense columns instead of lists of tasks."""

    def __init__(self, labels):
        import numpy as np
        self.np = np
        self.labels = list(labels)
        self.lock = threading.RLock()
        self.vocab = {}
        self.counts = np.zeros((1024, len(labels)), dtype=np.float64)  # rows: features
        self.total = np.zeros(len(labels))  # features counted per label
        self.prior = np.zeros(len(labels))  # annotations per label
        self.rows = {}  # task id -> row of the index
        self.ids = []
        self.texts = []  # the feature ids of every row
        self.lengths = np.zeros(0)  # features per row
        self.tail = 0  # rows from here on are not in the by-feature matrix yet
        self.col_ptr = np.zeros(1, dtype=np.int64)
        self.col_rows = np.zeros(0, dtype=np.int32)
        self.slot = np.zeros(0, dtype=np.int32)
        self.dense = np.zeros((0, 0), dtype=np.float32)
        self.raw = np.zeros((0, len(labels)))  # sum of log(count + a) over each row's features
        self.changed = {}  # feature -> label indexes counted since `raw` was brought up to date
        self.taught = {}  # task id -> label index
        self.seen = {label: 0 for label in labels}
        self.validated = self.correct = 0

    # -- features -----------------------------------------------------------------------

    def features(self, text, grow=True):
        np = self.np
        words = TOKEN.findall(text.lower())
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        ids = set()
        vocab = self.vocab
        for gram in grams:
            found = vocab.get(gram)
            if found is None:
                if not grow:
                    continue
                found = vocab[gram] = len(vocab)
            ids.add(found)
        if grow and len(vocab) > len(self.counts):
            more = np.zeros((max(len(vocab), 2 * len(self.counts)), len(self.labels)))
            more[:len(self.counts)] = self.counts
            self.counts = more
        return np.fromiter(sorted(ids), dtype=np.int32, count=len(ids))

    def add(self, tasks):
        """Index (task id, text) pairs not indexed yet."""
        np = self.np
        new = []
        for task_id, text in tasks:
            if task_id in self.rows:
                continue
            self.rows[task_id] = len(self.ids)
            self.ids.append(task_id)
            self.texts.append(self.features(text))
            new.append(self.texts[-1])
        if new:
            self._flush()
            self.raw = np.concatenate((self.raw, np.stack(
                [np.log(self.counts[f] + SMOOTHING).sum(axis=0) for f in new])))
            self.lengths = np.concatenate((self.lengths, [len(f) for f in new]))
            if len(self.ids) - self.tail > max(2000, len(self.ids) // 20):
                self._by_feature()

    def _by_feature(self):
        """Rebuild the by-feature matrix over every row (after the index grew). The most
        frequent words (in over 1% of the tasks, 64 at most) are kept apart as dense columns:
        an update to them changes nearly every task's score, which a matrix product does
        faster than walking their long lists of tasks."""
        np = self.np
        lengths = np.fromiter((len(f) for f in self.texts), dtype=np.int64,
                              count=len(self.texts))
        indices = np.concatenate(self.texts) if self.texts else np.zeros(0, dtype=np.int32)
        rows = np.repeat(np.arange(len(self.texts), dtype=np.int32), lengths)
        counts = np.bincount(indices, minlength=len(self.vocab))
        frequent = np.argsort(counts)[::-1][:FREQUENT]
        frequent = frequent[counts[frequent] > max(100, len(self.texts) // 100)]
        self.slot = np.full(len(self.vocab), -1, dtype=np.int32)
        self.slot[frequent] = np.arange(len(frequent), dtype=np.int32)
        dense = self.slot[indices] >= 0
        self.dense = np.zeros((len(self.texts), len(frequent)), dtype=np.float32)
        self.dense[rows[dense], self.slot[indices[dense]]] = 1.0
        sparse = ~dense
        indices, rows = indices[sparse], rows[sparse]
        counts[frequent] = 0
        self.col_rows = rows[np.argsort(indices, kind="stable")]
        self.col_ptr = np.concatenate(([0], np.cumsum(counts)))
        self.tail = len(self.texts)

    # -- the model ----------------------------------------------------------------------

    def _softmax(self, scores):
        np = self.np
        scores = scores - scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        return scores

    def _per_label(self):
        """What a score adds per label: -log(total + a*V) per feature, and the log prior."""
        np = self.np
        vocabulary = max(1, len(self.vocab))
        per_feature = -np.log(self.total + SMOOTHING * vocabulary)
        prior = np.log((self.prior + 1) / (self.prior.sum() + len(self.labels)))
        return per_feature, prior

    def probabilities(self, text):
        features = self.features(text, grow=False)
        per_feature, prior = self._per_label()
        scores = self.np.log(self.counts[features] + SMOOTHING).sum(axis=0) + \
            len(features) * per_feature + prior
        return self._softmax(scores)

    def learn(self, task_id, text, label):
        label_index = self.labels.index(label)
        if task_id is not None and task_id not in self.rows:
            self.add([(task_id, text)])
        features = self.texts[self.rows[task_id]] if task_id in self.rows \
            else self.features(text)
        previous = self.taught.get(task_id)
        if previous is None:  # progressive validation: predict, then learn
            if self.prior.sum():
                self.validated += 1
                self.correct += int(self.probabilities(text).argmax()) == label_index
            self.seen[label] += 1
        elif previous == label_index:
            return  # an update that kept the label: nothing new to learn
        else:  # the label changed: count the text under its new label instead
            self._count(features, previous, -1)
            self.seen[self.labels[previous]] -= 1
            self.seen[label] += 1
        self._count(features, label_index, 1)
        self.taught[task_id] = label_index

    def _count(self, features, label_index, sign):
        before = self.counts[features, label_index].tolist()
        changed = self.changed
        for feature, count in zip(features.tolist(), before):
            changed.setdefault(feature, {}).setdefault(label_index, count)
        self.counts[features, label_index] += sign
        self.total[label_index] += sign * len(features)
        self.prior[label_index] += sign

    def _flush(self):
        """Bring `raw` up to date with the counts changed since last time: for each changed
        (word, label), the tasks with the word get the change of log(count + a)."""
        np = self.np
        if not self.changed or not len(self.raw):
            self.changed = {}
            return
        changed, self.changed = self.changed, {}
        width = len(self.labels)
        features = np.fromiter(changed, dtype=np.int64, count=len(changed))
        before = np.zeros((len(features), width))
        touched = np.zeros((len(features), width), dtype=bool)
        for k, counts in enumerate(changed.values()):
            for label_index, count in counts.items():
                before[k, label_index] = count
                touched[k, label_index] = True
        now = self.counts[features]
        delta = np.where(touched, np.log(now + SMOOTHING) - np.log(np.where(
            touched, before, now) + SMOOTHING), 0.0)
        known = features < len(self.col_ptr) - 1
        raw = self.raw
        slots = np.where(known, self.slot[np.minimum(features, len(self.slot) - 1)], -1) \
            if len(self.slot) else np.full(len(features), -1)
        dense = slots >= 0
        if dense.any():
            raw[:self.tail] += self.dense[:, slots[dense]] @ delta[dense]
        sparse = known & ~dense
        if sparse.any():
            starts, ends = self.col_ptr[features[sparse]], self.col_ptr[features[sparse] + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                which = np.repeat(np.arange(len(lengths)), lengths)
                offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                rows = self.col_rows[starts[which] + offsets].astype(np.int64)
                flat = (rows[:, None] * width + np.arange(width)).ravel()
                np.add.at(raw.reshape(-1), flat, delta[sparse][which].ravel())
        for row in range(self.tail, len(self.texts)):  # rows the by-feature matrix lacks
            raw[row] = np.log(self.counts[self.texts[row]] + SMOOTHING).sum(axis=0)

    def log_scores(self, rows=None):
        """Every indexed task's score per label (log probabilities but for a constant)."""
        self._flush()
        per_feature, prior = self._per_label()
        raw, lengths = (self.raw, self.lengths) if rows is None else \
            (self.raw[rows], self.lengths[rows])
        return raw + lengths[:, None] * per_feature + prior

    def scores(self):
        """The probabilities of every indexed task, one row each."""
        return self._softmax(self.log_scores())

    def rank(self, limit):
        """The least sure first: those whose two likeliest labels are closest (their log
        odds; the same order as the probabilities' margin for two labels), with the guess."""
        np = self.np
        scores = self.log_scores()
        if not len(scores):
            return []
        everyone = np.arange(len(scores))
        guesses = scores.argmax(axis=1)
        best = scores[everyone, guesses]
        scores[everyone, guesses] = -np.inf
        margin = best - scores.max(axis=1)
        if self.taught:
            taught = np.fromiter((self.rows[t] for t in self.taught if t in self.rows),
                                 dtype=np.int64)
            margin[taught] = np.inf
        limit = min(limit, len(margin))
        chosen = np.argpartition(margin, limit - 1)[:limit] if limit < len(margin) \
            else everyone
        chosen = chosen[np.argsort(margin[chosen], kind="stable")]
        chosen = chosen[margin[chosen] != np.inf]
        probs = self._softmax(self.log_scores(chosen))
        return [[self.ids[row], float(margin[row]), self.labels[guesses[row]],
                 float(probs[k, guesses[row]])] for k, row in enumerate(chosen.tolist())]

    def stats(self):
        return {"labels_seen": sum(self.seen.values()), "per_label": dict(self.seen),
                "validated": self.validated,
                "accuracy": self.correct / self.validated if self.validated else None,
                "indexed": len(self.ids)}
