"""JSON from outside (request bodies, imported files), parsed with a cap on nesting depth.

orjson parses up to 1024 levels but writes only up to 254: a task nested 300 deep was taken in
and then could not be stored or exported. No Label Studio task or annotation comes near
MAX_DEPTH (a task's data is a few levels; an export wraps it in about five more), so deeper
documents are refused when they are read, with a 400 that says why.

The check costs no second walk in Python: the parsed value is serialized once more by orjson
(C) inside enough extra lists that orjson's own writing limit falls exactly at MAX_DEPTH.
Only a value that fails that fast check is walked in Python, to tell depth from anything else.
"""

import orjson

MAX_DEPTH = 100  # containers ([ or {) inside each other, the outermost counted


class TooDeep(orjson.JSONDecodeError):
    """A JSONDecodeError, so every `except orjson.JSONDecodeError` answers it as bad JSON."""

    def __init__(self, limit):
        super().__init__(f"JSON nested deeper than {limit} levels", "", 0)
        self.limit = limit

    def __str__(self):
        return self.msg


def _writing_limit():
    """The deepest nesting orjson.dumps writes (254 in orjson 3.x); None if it has no limit."""
    value = 0
    for depth in range(1, 4097):
        value = [value]
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            return depth - 1
    return None


WRITING_LIMIT = _writing_limit()


def loads(data, max_depth=MAX_DEPTH):
    """orjson.loads, then TooDeep (a JSONDecodeError) when nested deeper than `max_depth`."""
    value = orjson.loads(data)
    check_depth(value, max_depth)
    return value


def check_depth(value, max_depth=MAX_DEPTH):
    if not isinstance(value, (list, dict)):
        return value
    if WRITING_LIMIT is not None and max_depth < WRITING_LIMIT:
        wrapped = value
        for _ in range(WRITING_LIMIT - max_depth):
            wrapped = [wrapped]
        try:
            orjson.dumps(wrapped)
            return value
        except orjson.JSONEncodeError:
            pass  # too deep, or something else orjson won't write: walk to tell which
    if depth(value, max_depth + 1) > max_depth:
        raise TooDeep(max_depth)
    return value


def depth(value, stop=None):
    """Nesting depth of containers in `value`, iteratively; counting ends at `stop`."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if stop is not None and deepest >= stop:
            return deepest
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, (list, dict)))
    return deepest
