"""Teach mode: a linear text classifier that learns from every submit and says which task it is
least sure of, for `<Text>` + single-choice `<Choices>` projects.

Plain numpy (no scikit-learn, whose scipy would add ~100 MB to the AppImage): each text becomes
its words and word pairs, looked up in a growing vocabulary, L2-normalised, plus a constant
feature (the intercept); the model is multinomial logistic regression trained by SGD, one step
on each new annotation and a few replayed steps on earlier ones (a small model learns much
faster from few labels that way). Every project's texts stay indexed as one sparse matrix, so
after an update all of them are scored again at once: the tasks the model is least sure of are
those whose two likeliest labels are closest (margin sampling).

The project shows labels seen and progressive-validation accuracy: each annotation is first
predicted, then learned, and the accuracy counts those predictions on labels not yet seen.
"""

import random
import re
import threading

NAME = "teach"
TITLE = "Teach mode"
VERSION = "1.0"
LIGHT = True
NEEDS = "`pip install 'labeldesk[assistants]'` (numpy)"

TOKEN = re.compile(r"\w+", re.UNICODE)
REPLAY = 8  # earlier annotations replayed after each new one
RATE = 0.8
RANKED = 500  # how many of the least sure tasks a re-rank returns
FREQUENT = 64  # words kept as dense columns (see Learner._by_feature)


def missing():
    try:
        import numpy  # noqa: F401
    except ImportError:
        return "numpy is not installed"
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

    The index is a sparse matrix kept twice: by task (to score a task) and by feature (the
    tasks each word is in). The raw scores of every indexed task are kept up to date after each
    update by adding what changed: the weights of the words of the texts just learned, times
    the tasks those words are in. That is what makes update + re-rank cheap at 100k tasks
    (scoring every task from scratch takes ~100 ms on a busy 2-core machine; this, ~5-15)."""

    def __init__(self, labels, seed=0):
        import numpy as np
        self.np = np
        self.labels = list(labels)
        self.lock = threading.RLock()
        self.vocab = {"": 0}  # feature 0: the intercept
        self.weights = np.zeros((1024, len(labels)), dtype=np.float32)  # rows: features
        self.rows = {}  # task id -> row of the index
        self.ids = []
        self.texts = []  # (indices, values) of every row
        self.tail = 0  # rows from here on are not in the by-feature matrix yet
        self.col_ptr = np.zeros(1, dtype=np.int64)
        self.col_rows = np.zeros(0, dtype=np.int32)
        self.col_values = np.zeros(0, dtype=np.float32)
        self.slot = np.zeros(0, dtype=np.int32)
        self.dense = np.zeros((0, 0), dtype=np.float32)
        self.raw = np.zeros((0, len(labels)), dtype=np.float32)  # scores of the rows
        self.taught = {}  # task id -> label index
        self.examples = []  # (indices, values, label index) in the order taught
        self.changes = []  # (indices, weight changes) since the scores were brought up to date
        self.random = random.Random(seed)
        self.seen = {label: 0 for label in labels}
        self.validated = self.correct = 0
        self.steps = 0

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
        ids.discard(0)
        indices = np.empty(len(ids) + 1, dtype=np.int32)
        indices[0] = 0
        indices[1:] = sorted(ids)
        values = np.full(len(ids) + 1, 1 / max(1, len(ids)) ** 0.5, dtype=np.float32)
        values[0] = 1.0
        if grow and len(vocab) > len(self.weights):
            more = np.zeros((max(len(vocab), 2 * len(self.weights)), len(self.labels)),
                            dtype=np.float32)
            more[:len(self.weights)] = self.weights
            self.weights = more
        return indices, values

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
            scores = np.stack([v @ self.weights[i] for i, v in new])
            self.raw = np.concatenate((self.raw, scores.astype(np.float32)))
            if len(self.ids) - self.tail > max(2000, len(self.ids) // 20):
                self._by_feature()

    def _by_feature(self):
        """Rebuild the by-feature matrix over every row (after the index grew). The most
        frequent words (in over 1% of the tasks, 64 at most) are kept apart as dense columns:
        an update to them changes nearly every task's score, which a matrix product does
        faster than walking their long lists of tasks."""
        np = self.np
        lengths = np.fromiter((len(i) for i, _ in self.texts), dtype=np.int64,
                              count=len(self.texts))
        indices = np.concatenate([i for i, _ in self.texts])
        values = np.concatenate([v for _, v in self.texts])
        rows = np.repeat(np.arange(len(self.texts), dtype=np.int32), lengths)
        counts = np.bincount(indices, minlength=len(self.vocab))
        counts[0] = 0  # the intercept is added to every row on its own
        frequent = np.argsort(counts)[::-1][:FREQUENT]
        frequent = frequent[counts[frequent] > max(100, len(self.texts) // 100)]
        self.slot = np.full(len(self.vocab), -1, dtype=np.int32)
        self.slot[frequent] = np.arange(len(frequent), dtype=np.int32)
        dense = self.slot[indices] >= 0
        self.dense = np.zeros((len(self.texts), len(frequent)), dtype=np.float32)
        self.dense[rows[dense], self.slot[indices[dense]]] = values[dense]
        sparse = ~dense & (indices != 0)  # the intercept is added to every row on its own
        indices, values, rows = indices[sparse], values[sparse], rows[sparse]
        counts[frequent] = 0
        order = np.argsort(indices, kind="stable")
        self.col_rows, self.col_values = rows[order], values[order]
        self.col_ptr = np.concatenate(([0], np.cumsum(counts)))
        self.tail = len(self.texts)

    # -- the model ----------------------------------------------------------------------

    def _softmax(self, scores):
        np = self.np
        scores = scores - scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        return scores

    def probabilities(self, text):
        indices, values = self.features(text, grow=False)
        return self._softmax(values @ self.weights[indices])

    def _step(self, indices, values, label):
        probs = self._softmax(values @ self.weights[indices])
        probs[label] -= 1.0  # the gradient of the cross-entropy over the scores
        self.steps += 1
        rate = RATE / (1 + self.steps / 2000) ** 0.5
        change = -(rate * values)[:, None] * probs[None, :]
        self.weights[indices] += change
        self.changes.append((indices, change))

    def learn(self, task_id, text, label):
        label_index = self.labels.index(label)
        if task_id is not None and task_id not in self.rows:
            self.add([(task_id, text)])
        indices, values = self.texts[self.rows[task_id]] if task_id in self.rows \
            else self.features(text)
        if task_id not in self.taught:  # progressive validation: predict, then learn
            if self.examples:
                guess = int((values @ self.weights[indices]).argmax())
                self.validated += 1
                self.correct += guess == label_index
            self.seen[label] += 1
        self.taught[task_id] = label_index
        self.examples.append((indices, values, label_index))
        self._step(indices, values, label_index)
        for _ in range(min(REPLAY, len(self.examples) - 1)):
            self._step(*self.examples[self.random.randrange(len(self.examples) - 1)])

    def _flush(self):
        """Bring the rows' scores up to date with the weight changes made since last time."""
        np = self.np
        if not self.changes or not len(self.raw):
            self.changes = []
            return
        features = np.concatenate([i for i, _ in self.changes])
        deltas = np.concatenate([d for _, d in self.changes])
        self.changes = []
        unique, inverse = np.unique(features, return_inverse=True)
        summed = np.zeros((len(unique), deltas.shape[1]), dtype=np.float32)
        np.add.at(summed, inverse, deltas)
        raw = self.raw
        if unique[0] == 0:  # the intercept: every row
            raw += summed[0]
            unique, summed = unique[1:], summed[1:]
        known = unique < len(self.col_ptr) - 1
        unique, summed = unique[known], summed[known]
        slots = self.slot[unique] if len(unique) else unique
        dense = slots >= 0
        if dense.any():
            raw[:self.tail] += self.dense[:, slots[dense]] @ summed[dense]
            unique, summed = unique[~dense], summed[~dense]
        if len(unique):
            starts, ends = self.col_ptr[unique], self.col_ptr[unique + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                which = np.repeat(np.arange(len(unique)), lengths)
                offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                at = starts[which] + offsets
                width = raw.shape[1]
                flat = (self.col_rows[at].astype(np.int64)[:, None] * width
                        + np.arange(width)).ravel()
                np.add.at(raw.reshape(-1), flat,
                          (self.col_values[at][:, None] * summed[which]).ravel())
        for row in range(self.tail, len(self.texts)):  # rows the by-feature matrix lacks
            indices, values = self.texts[row]
            raw[row] = values @ self.weights[indices]

    def scores(self):
        """The probabilities of every indexed task, one row each."""
        self._flush()
        return self._softmax(self.raw.copy())

    def rank(self, limit):
        np = self.np
        probs = self.scores()
        if not len(probs):
            return []
        best = probs.max(axis=1)
        guesses = probs.argmax(axis=1)
        probs[np.arange(len(probs)), guesses] = -1.0
        margin = best - probs.max(axis=1)  # the likeliest label's lead over the next one
        if self.taught:
            taught = np.fromiter((self.rows[t] for t in self.taught if t in self.rows),
                                 dtype=np.int64)
            margin[taught] = np.inf
        limit = min(limit, len(margin))
        chosen = np.argpartition(margin, limit - 1)[:limit] if limit < len(margin) \
            else np.arange(len(margin))
        chosen = chosen[np.argsort(margin[chosen], kind="stable")]
        return [[self.ids[row], float(margin[row]), self.labels[guesses[row]], float(best[row])]
                for row in chosen.tolist() if margin[row] != np.inf]

    def stats(self):
        return {"labels_seen": sum(self.seen.values()), "per_label": dict(self.seen),
                "validated": self.validated,
                "accuracy": self.correct / self.validated if self.validated else None,
                "indexed": len(self.ids)}
