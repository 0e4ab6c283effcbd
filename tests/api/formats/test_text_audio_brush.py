"""CONLL2003, ASR_MANIFEST and the brush formats against LS's converter."""

import io
import json
import wave
import zipfile

import numpy as np
import pytest
from PIL import Image

from desktop.data_export.formats.brush import decode_rle

NER_CONFIG = """<View><Text name="text" value="$text"/>
<Labels name="label" toName="text">
<Label value="PER"/><Label value="ORG"/><Label value="LOC"/></Labels></View>"""

TEXTS = [
    ("John works at Acme Corp.", [(0, 4, "PER"), (14, 23, "ORG")]),
    ('She said "hello" -- then left... (quickly)! Isn\'t it? Cannot/won\'t', [(10, 15, "ORG")]),
    ("Prices: $3.88, 3,36 euros; e-mail a@b.c #tag 50% & more. They'll gonna",
     [(35, 40, "LOC"), (41, 45, "PER")]),
    ("  spaces   and\ttabs\nnewline ''quotes'' end", [(2, 8, "LOC"), (9, 30, "PER")]),
]


def ner_region(i, start, end, label, text):
    return {"id": f"n{i}", "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def test_conll_matches_ls_byte_for_byte(make_project, h):
    p = make_project(NER_CONFIG)
    tasks = [
        h.task(n + 1, {"text": text}, [h.annotation(n + 1, [
            ner_region(i, s, e, lab, text) for i, (s, e, lab) in enumerate(spans)])])
        for n, (text, spans) in enumerate(TEXTS)
    ]
    tasks.append(h.task(9, {"text": "No annotation here."}))
    ext, content_type, data = p.ours("CONLL2003", tasks)
    assert (ext, content_type) == (".conll", "application/.conll")
    expected = (p.oracle_dir("CONLL2003", tasks) / "result.conll").read_bytes()
    assert data == expected
    assert data.startswith(b"-DOCSTART- -X- O\nJohn -X- _ B-PER\nworks -X- _ O\nat -X- _ O\n"
                           b"Acme -X- _ B-ORG\n")


# ---------------------------------------------------------------- ASR

ASR_CONFIG = """<View><Audio name="audio" value="$audio"/>
<TextArea name="transcription" toName="audio"/></View>"""


def wav_bytes(seconds, rate=8000):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


@pytest.mark.parametrize("download", [True, False])
def test_asr_manifest_matches_ls(make_project, h, download):
    p = make_project(ASR_CONFIG)
    a1 = p.file("aa11bb22-one.wav", wav_bytes(1.5))
    a2 = p.file("bb22cc33-two.wav", wav_bytes(0.25))
    mp3 = p.file("cc33dd44-three.mp3", b"ID3 not really")
    ta = lambda text: {"id": "t", "type": "textarea", "from_name": "transcription",  # noqa: E731
                       "to_name": "audio", "value": {"text": [text]}}
    tasks = [
        h.task(1, {"audio": a1}, [h.annotation(1, [ta("héllo world")])]),
        h.task(2, {"audio": a2}, [h.annotation(2, [ta("second")], completed_by=7)]),
        h.task(3, {"audio": mp3}, [h.annotation(3, [ta("unreadable audio is skipped")])]),
    ]
    ours = p.ours_dir("ASR_MANIFEST", tasks, download)
    ls = p.oracle_dir("ASR_MANIFEST", tasks, download)
    if download:
        assert (ours / "manifest.json").read_bytes() == (ls / "manifest.json").read_bytes()
        assert h.files_in(ours) == h.files_in(ls)
    else:
        # LS measures the duration on the copied file, so without copies its manifest is empty;
        # we measure the source file and keep the items.
        assert (ls / "manifest.json").read_text() == ""
        lines = [json.loads(line) for line in (ours / "manifest.json").read_text().splitlines()]
        assert [(r["audio_filepath"], r["duration"], r["text"]) for r in lines] == [
            ("audio/aa11bb22-one.wav", 1.5, "héllo world"),
            ("audio/bb22cc33-two.wav", 0.25, "second")]


# ---------------------------------------------------------------- brush

BRUSH_CONFIG = """<View><Image name="image" value="$image"/>
<BrushLabels name="tag" toName="image">
<Label value="Car"/><Label value="Road/Way"/></BrushLabels></View>"""


def mask(height, width, seed):
    rng = np.random.default_rng(seed)
    m = np.zeros((height, width), dtype=np.uint8)
    m[height // 4: height // 2, width // 3: width - 2] = 255
    values = rng.integers(1, 255, 30, dtype=np.uint8)  # drawn first, as in m[...] = values
    m[rng.integers(0, height, 30), rng.integers(0, width, 30)] = values
    return m


def brush_region(region_id, m, label):
    from label_studio_sdk.converter.brush import mask2rle

    return {"id": region_id, "type": "brushlabels", "from_name": "tag", "to_name": "image",
            "original_width": m.shape[1], "original_height": m.shape[0], "image_rotation": 0,
            "value": {"format": "rle", "rle": mask2rle(m), "brushlabels": [label]}}


def test_rle_decoder_matches_ls():
    from label_studio_sdk.converter.brush import decode_rle as ls_decode
    from label_studio_sdk.converter.brush import encode_rle

    rng = np.random.default_rng(1)
    flat = np.repeat(rng.integers(0, 3, 5000).astype(np.uint8) * 100, rng.integers(1, 300, 5000))
    rle = encode_rle(flat)
    assert bytes(decode_rle(rle)) == ls_decode(rle).tobytes()


@pytest.fixture
def brush_project(make_project, h):
    p = make_project(BRUSH_CONFIG)
    img = p.image("ab12cd34-street.png", (37, 23))
    m1, m2, m3 = mask(23, 37, 1), mask(23, 37, 2), mask(23, 37, 3)
    tasks = [
        h.task(1, {"image": img}, [h.annotation(5, [brush_region("b1", m1, "Car"),
                                                    brush_region("b2", m2, "Car"),
                                                    brush_region("b3", m3, "Road/Way")],
                                                completed_by={"email": "ann+1@x.org", "id": 1})]),
        h.task(2, {"image": img},
               [h.annotation(6, [brush_region("b4", m1, "Car")], completed_by=3)]),
    ]
    return p, tasks


def test_brush_to_numpy_matches_ls(brush_project, h):
    p, tasks = brush_project
    ours, ls = p.ours_dir("BRUSH_TO_NUMPY", tasks), p.oracle_dir("BRUSH_TO_NUMPY", tasks)
    assert h.files_in(ours) == h.files_in(ls)
    assert len(h.files_in(ls)) == 4
    for name in h.files_in(ls):
        # np.save's exact bytes: header, padding and data
        assert (ours / name).read_bytes() == (ls / name).read_bytes(), name


def test_brush_to_png_matches_ls(brush_project, h):
    p, tasks = brush_project
    ours, ls = p.ours_dir("BRUSH_TO_PNG", tasks), p.oracle_dir("BRUSH_TO_PNG", tasks)
    assert h.files_in(ours) == h.files_in(ls)
    for name in h.files_in(ls):
        with Image.open(ours / name) as mine, Image.open(ls / name) as theirs:
            assert mine.mode == theirs.mode == "L"
            assert np.array_equal(np.array(mine), np.array(theirs)), name


def test_single_mask_is_answered_as_the_file(brush_project):
    p, tasks = brush_project
    ext, content_type, data = p.ours("BRUSH_TO_NUMPY", tasks[1:])
    assert (ext, content_type) == (".npy", "application/.npy")
    assert np.load(io.BytesIO(data)).shape == (23, 37)
    ext, _, data = p.ours("BRUSH_TO_PNG", [])
    assert ext == ".zip" and zipfile.ZipFile(io.BytesIO(data)).namelist() == []
