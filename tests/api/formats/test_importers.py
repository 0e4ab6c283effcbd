"""Uploaded files -> tasks, compared with LS's pandas-based reading."""

import io

import pandas as pd
import pytest

from desktop.core.errors import ValidationError
from desktop.data_import.importers import ALLOWED_EXTENSIONS, is_list_format, is_media, read_tasks


def pandas_tasks(text, sep):
    """What LS 1.23 does: pd.read_csv(...).fillna('').to_dict('records')."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = pd.read_csv(io.StringIO(text), sep=sep).fillna("").to_dict("records")
        return [{"data": row} for row in rows]


CSV_CASES = [
    "text,label\nhello,pos\nworld,neg\n",
    'text,n\n"quoted, with comma",1\n"multi\nline ""q""",2\n',
    "a;b;c\n1;2,5;x\n3;4;y\n",  # more ';' than ',' on the first line -> ';' separator
    "id,score,flag,maybe\n1,0.5,True,\n2,1e3,false,7\n3,-2,TRUE,8\n",
    "a,b\n1,\n,4\n",  # an empty cell turns an int column into floats
    "a,b\nNA,None\nnull,x\n",  # pandas' NA strings become ""
    "a,b\n007,+5\n 1 ,2\n",
    "a,b\n1_0,2\n3,4\n",  # not a number for pandas: the whole column stays text
    "a,a,\n1,2,3\n",  # duplicate and empty header names
    "a,b\n1\n4,5\n",  # short rows are padded
    "a,b\n1,2,3\n4,5,6\n",  # one extra column everywhere: pandas makes it the index
    "\ufeffname,city\nJosé,Zürich\n李,北京\n",  # BOM and unicode
    "a,b\n\n1,2\n\n",  # blank lines are skipped
    "a\r\n1\r\n2.5\r\n",
    "a,b\nTrue,1\n1,0\n",  # mixed bool/int stays text
    "x\n9223372036854775807\n-9223372036854775808\n",
    "x\n3.14159265358979323846\n.5\n1.\n",
    "only,header\n",
]


@pytest.mark.parametrize("text", CSV_CASES)
def test_csv_like_pandas(text):
    sep = ";" if text.split("\n")[0].count(";") > text.split("\n")[0].count(",") else ","
    assert read_tasks("a.csv", text.encode("utf8")) == pandas_tasks(text.lstrip("\ufeff"), sep)


def test_tsv_like_pandas():
    text = "text\tn\tf\nhello, world\t1\t0.5\nbye\t2\t\n"
    assert read_tasks("a.tsv", text.encode()) == pandas_tasks(text, "\t")


def test_csv_errors():
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.csv", b"a,b\n1,2\n4,5,6\n")
    assert exc.value.errors["non_field_errors"][0].startswith(
        "Failed to parse input file a.csv: Error tokenizing data. C error: Expected 2 fields in "
        "line 3, saw 3")
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.csv", b"")
    assert exc.value.errors["non_field_errors"] == [
        "Failed to parse input file a.csv: No columns to parse from file"]
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.csv", b"a\n\xff\n")
    assert ("Failed to parse input file a.csv: 'utf-8' codec can't decode"
            in exc.value.errors["non_field_errors"][0])


def test_big_csv_reads_every_row():
    # Its speed is a benchmark figure (bench/), not a timed test.
    rows = "".join(f"text number {i},{i},{i / 3},label{i % 5}\n" for i in range(100_000))
    data = ("text,n,score,label\n" + rows).encode()
    tasks = read_tasks("big.csv", data)
    assert len(tasks) == 100_000
    assert tasks[-1]["data"] == {"text": "text number 99999", "n": 99999, "score": 99999 / 3,
                                 "label": "label4"}


def test_txt_is_one_task_per_line():
    assert read_tasks("a.txt", "one\r\ntwo\n\nthree".encode()) == [
        {"data": {"$undefined$": "one"}}, {"data": {"$undefined$": "two"}},
        {"data": {"$undefined$": ""}}, {"data": {"$undefined$": "three"}},
    ]


def test_json_list_object_and_task_roots():
    data = (b'[{"text": "flat"}, '
            b'{"data": {"text": "rooted"}, "annotations": [{"result": []}], "meta": {"m": 1}}]')
    assert read_tasks("a.json", data) == [
        {"data": {"text": "flat"}},
        {"data": {"text": "rooted"}, "annotations": [{"result": []}], "meta": {"m": 1}},
    ]
    assert read_tasks("a.json", b'{"text": "single"}') == [{"data": {"text": "single"}}]
    # a falsy "data" means the item itself is the data, as in LS
    assert read_tasks("a.json", b'[{"data": "", "x": 1}]') == [{"data": {"data": "", "x": 1}}]


def test_jsonl():
    data = b'{"text": "a"}\n\n{"data": {"text": "b"}}\r\n'
    assert read_tasks("a.jsonl", data) == [{"data": {"text": "a"}}, {"data": {"text": "b"}}]
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.jsonl", b'{"text": "a"}\n{broken\n')
    assert exc.value.errors["non_field_errors"][0].startswith(
        "Failed to parse input file a.jsonl: line 2: ")


@pytest.mark.parametrize("data, message", [
    (b"", "Failed to parse input file a.json: Expected object or value"),
    (b"nope", "Failed to parse input file a.json: Expected object or value"),
    (b'[{"data": 5}]', "Failed to parse input file a.json: Task item should be dict"),
])
def test_broken_json(data, message):
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.json", data)
    assert exc.value.errors == {"non_field_errors": [message]}


def test_broken_json_mentions_the_problem():
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.json", b'[{"text": "a",}]')
    assert exc.value.errors["non_field_errors"][0].startswith("Failed to parse input file a.json: ")


def test_hypertext_and_media():
    assert read_tasks("page.html", b"<p>hi</p>") == [{"data": {"$undefined$": "<p>hi</p>"}}]
    assert read_tasks("cat.PNG", b"\x89PNG", url="/data/upload/1/ab12cd34-cat.PNG") == [
        {"data": {"$undefined$": "/data/upload/1/ab12cd34-cat.PNG"}}]
    assert is_media("a.mp3") and is_media("b.JPEG") and not is_media("c.csv")
    assert is_list_format("a.csv") and is_list_format("a.TXT") and not is_list_format("a.json")


def test_unsupported_extension():
    with pytest.raises(ValidationError) as exc:
        read_tasks("a.xyz", b"")
    assert exc.value.errors == {"non_field_errors": [".xyz extension is not supported"]}


def test_allowed_extensions_are_ls_plus_jsonl():
    ls = (".bmp .csv .flac .gif .htm .html .jpg .jpeg .json .m4a .mp3 .ogg .png .svg .tsv .txt "
          ".wav .xml .mp4 .webm .webp .pdf")
    assert ALLOWED_EXTENSIONS == set(ls.split()) | {".jsonl"}
