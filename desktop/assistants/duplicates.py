"""Near-duplicates: tasks whose image or text is nearly the same as an earlier task's.

Images: the perceptual hash (pHash) of imagehash — the image in grey at 32x32, the 8x8 lowest
frequencies of its DCT, each bit "above the median" — computed with numpy alone (imagehash
would bring scipy and PyWavelets, ~100 MB, for one small DCT); two images are near-duplicates
within HAMMING bits of 64. Text: MinHash over character 5-grams of the lower-cased,
whitespace-collapsed text (128 hash functions); two texts are near-duplicates when their
estimated Jaccard similarity is at least JACCARD. Candidates come from bands of the
signatures (locality-sensitive hashing), so a project is never compared pair by pair.

This is not an ML backend the web app lists: LabelDesk asks the worker for signatures
(`POST /duplicates/signatures`) and groups them (`group`); each task of a group but the
first (the lowest id) is a "near-duplicate of #<first>" in the data manager.
"""

import re
import zlib

NAME = "duplicates"
TITLE = "Near-duplicates"
VERSION = "1.0"
LIGHT = True
NEEDS = "`pip install 'labeldesk[assistants]'` (numpy and Pillow)"

HAMMING = 6  # of the 64 bits of a pHash
JACCARD = 0.6  # as estimated from 128 values: a true 0.75 reads 0.6 to 0.9
PERMUTATIONS = 128
BANDS = 32  # of PERMUTATIONS // BANDS rows each
SHINGLE = 5
PRIME = (1 << 31) - 1  # a*x + b stays exact in 64 bits
SPACE = re.compile(r"\s+")


def missing():
    try:
        import numpy  # noqa: F401
        import PIL  # noqa: F401
    except ImportError as e:
        return f"{e.name or 'a package'} can't be imported: {e}"
    return None


def fits(label_config):
    """The first <Image> (else <Text>/<HyperText>) of the config: {"type": "image"|"text",
    "to_name", "value" (its data key)}."""
    from desktop.assistants.labels import objects
    found = objects(label_config)
    for kinds, kind in ((("Image",), "image"), (("Text", "HyperText"), "text")):
        for name, info in found.items():
            if info["type"] in kinds and info["value"]:
                return {"type": kind, "to_name": name, "value": info["value"], "labels": []}
    return None


class Model:
    def __init__(self):
        import numpy as np
        self.np = np
        rng = np.random.default_rng(20240601)
        self.a = rng.integers(1, PRIME, PERMUTATIONS, dtype=np.uint64)
        self.b = rng.integers(0, PRIME, PERMUTATIONS, dtype=np.uint64)
        n = 32
        k = np.arange(8)[:, None]
        x = np.arange(n)[None, :]
        self.dct = (2 * np.cos(np.pi * k * (2 * x + 1) / (2 * n)))  # DCT-II rows 0..7


def load():
    return Model()


def predict(model, tasks, fit, context=None):
    """Nothing to pre-label: duplicates are a data-manager column, not annotations."""
    return [{"result": [], "score": None, "model_version": f"{NAME}-{VERSION}"} for _ in tasks]


def signatures(model, tasks, fit):
    """One signature per task ("p:<16 hex>" for an image, "m:<hex>" for a text), or None for a
    task without that data (or an image that can't be read)."""
    out = []
    for task in tasks:
        try:
            if fit["type"] == "image":
                path = (task.get("local_files") or {}).get(fit["value"])
                out.append(f"p:{phash(model, path):016x}" if path else None)
            else:
                value = (task.get("data") or {}).get(fit["value"])
                out.append(minhash(model, value) if isinstance(value, str) else None)
        except (OSError, ValueError, SyntaxError):  # PIL's error for a broken image file
            out.append(None)
    return out


def phash(model, path):
    """imagehash.phash(Image.open(path)) as an int (same bits; numpy's DCT instead of scipy's)."""
    from PIL import Image
    np = model.np
    with Image.open(path) as image:
        if image.format == "JPEG" and min(image.size) >= 256:
            image.draft("L", (128, 128))  # decode at a fraction of the size: much faster
        small = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = model.dct @ pixels @ model.dct.T  # the 8x8 lowest frequencies, as scipy's dct twice
    bits = (low > np.median(low)).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def minhash(model, text):
    """PERMUTATIONS minimum hash values of the text's 5-grams, as hex (8 digits each)."""
    np = model.np
    text = SPACE.sub(" ", text.lower()).strip()
    if not text:
        return None
    grams = {text[i:i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))}
    x = np.fromiter((zlib.crc32(g.encode()) % PRIME for g in grams), dtype=np.uint64,
                    count=len(grams))
    values = (model.a[:, None] * x[None, :] + model.b[:, None]) % np.uint64(PRIME)
    return "m:" + "".join(f"{v:08x}" for v in values.min(axis=1).tolist())


def group(signatures, hamming=HAMMING, jaccard=JACCARD):
    """[[task id, signature]] -> {task id: id of the first task of its group} for every task
    that is a near-duplicate of an earlier one (lower id)."""
    parent = {}

    def root(i):
        while parent.get(i, i) != i:
            parent[i] = parent.get(parent[i], parent[i])
            i = parent[i]
        return i

    def join(i, j):
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    images = [(i, int(s[2:], 16)) for i, s in signatures if isinstance(s, str)
              and s.startswith("p:")]
    texts = [(i, s[2:]) for i, s in signatures if isinstance(s, str) and s.startswith("m:")]
    bands = hamming + 1  # two hashes within `hamming` bits agree on at least one band
    width = 64 // bands
    buckets = {}
    for task_id, value in images:
        for band in range(bands):
            bits = 64 - band * width if band == bands - 1 else width
            key = (band, (value >> (band * width)) & ((1 << bits) - 1))
            buckets.setdefault(key, []).append((task_id, value))
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                if (members[x][1] ^ members[y][1]).bit_count() <= hamming:
                    join(members[x][0], members[y][0])
    rows = PERMUTATIONS // BANDS
    buckets = {}
    parsed = {}
    for task_id, value in texts:
        parsed[task_id] = [value[k:k + 8] for k in range(0, len(value), 8)]
        for band in range(BANDS):
            key = (band, value[band * rows * 8:(band + 1) * rows * 8])
            buckets.setdefault(key, []).append(task_id)
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                a, b = parsed[members[x]], parsed[members[y]]
                same = sum(1 for u, v in zip(a, b) if u == v)
                if same >= jaccard * len(a):
                    join(members[x], members[y])
    return {i: root(i) for i in parent if root(i) != i}
