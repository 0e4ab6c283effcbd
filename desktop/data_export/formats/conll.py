"""CONLL2003: one `<token> -X- _ <BIO tag>` line per token, a blank line after each annotation.

Tokens are the Penn Treebank tokenizer's (what LS uses, through NLTK, with "/" added to the
split-off punctuation), so token boundaries and tags match LS's line for line.
"""

import re

from desktop.core.errors import ValidationError
from desktop.data_export.formats.base import ExportFormat, content_type_for
from desktop.data_export.formats.items import iter_items

STARTING_QUOTES = [
    (re.compile(r"^\""), r"``"),
    (re.compile(r"(``)"), r" \1 "),
    (re.compile(r"([ \(\[{<])(\"|\'{2})"), r"\1 `` "),
]
PUNCTUATION = [
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.\.\."), r" ... "),
    (re.compile(r"[;@#$/%&]"), r" \g<0> "),
    (re.compile(r'([^\.])(\.)([\]\)}>"\']*)\s*$'), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"([^'])' "), r"\1 ' "),
    (re.compile(r"[\]\[\(\)\{\}\<\>]"), r" \g<0> "),
    (re.compile(r"--"), r" -- "),
]
ENDING_QUOTES = [
    (re.compile(r"''"), " '' "),
    (re.compile(r'"'), " '' "),
    (re.compile(r"([^' ])('[sS]|'[mM]|'[dD]|') "), r"\1 \2 "),
    (re.compile(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) "), r"\1 \2 "),
]
CONTRACTIONS = [
    re.compile(p)
    for p in (
        r"(?i)\b(can)(not)\b", r"(?i)\b(d)('ye)\b", r"(?i)\b(gim)(me)\b", r"(?i)\b(gon)(na)\b",
        r"(?i)\b(got)(ta)\b", r"(?i)\b(lem)(me)\b", r"(?i)\b(more)('n)\b", r"(?i)\b(wan)(na)(?=\s)",
        r"(?i) ('t)(is)\b", r"(?i) ('t)(was)\b",
    )
]
QUOTES = re.compile(r"``|'{2}|\"")


class CONLL2003Format(ExportFormat):
    name = "CONLL2003"
    order = 5
    title = "CONLL2003"
    description = "Popular format used for the CoNLL-2003 named entity recognition challenge."
    link = "https://labelstud.io/guide/export.html#CONLL2003"
    tags = ["sequence labeling", "text tagging", "named entity recognition"]

    def fits(self, summary):
        return "Text" in summary.object_types and "Labels" in summary.control_types

    def write(self, tasks, out, ctx):
        out.write(b"-DOCSTART- -X- O\n")
        for item in iter_items(tasks, ctx.parsed_label_config):
            spans = next((v for v in item["output"].values()
                          if v[0]["type"].lower() == "labels"), None)
            text = item["input"].get(ctx.data_key)
            if not isinstance(text, str):
                continue  # LS fails the whole export here
            tokens, tags = tokens_and_tags(text, spans)
            lines = (f"{token} -X- _ {tag}\n" for token, tag in zip(tokens, tags))
            out.write("".join(lines).encode())
            out.write(b"\n")
        return ".conll", content_type_for(".conll")


def treebank_tokens(text):
    for regex, repl in STARTING_QUOTES + PUNCTUATION:
        text = regex.sub(repl, text)
    text = " " + text + " "
    for regex, repl in ENDING_QUOTES:
        text = regex.sub(repl, text)
    for regex in CONTRACTIONS:
        text = regex.sub(r" \1 \2 ", text)
    return text.split()


def token_spans(text):
    """(start, end) of each Treebank token in the original text."""
    tokens = treebank_tokens(text)
    if '"' in text or "''" in text:
        # The tokenizer rewrote quotes as `` and ''; put the original characters back.
        originals = iter(m.group() for m in QUOTES.finditer(text))
        tokens = [next(originals) if t in ('"', "``", "''") else t for t in tokens]
    point, spans = 0, []
    for token in tokens:
        start = text.find(token, point)
        if start < 0:
            raise ValidationError(f'substring "{token}" not found in "{text}"')
        point = start + len(token)
        spans.append((start, point))
    return spans


def tokens_and_tags(text, spans):
    """Tokens of `text` and their BIO tags from Labels regions `spans` (LS's alignment rules)."""
    tokens_at = [(text[s:e], s) for s, e in token_spans(text)]
    if not spans or not all(s.get("start") is not None and s.get("end") is not None for s in spans):
        return [t for t, _ in tokens_at], ["O"] * len(tokens_at)
    pending = sorted(spans, key=lambda s: s["start"])
    span = pending.pop(0)
    span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
    tokens, tags = [], []
    for token, token_start in tokens_at:
        tokens.append(token)
        token_end = token_start + len(token) - 1
        if token_start > span_end:
            while pending:
                span = pending.pop(0)
                span_start, span_end, prefix = span["start"], span["end"] - 1, "B-"
                if token_start <= span_end:
                    break
        if not span or token_end < span_start or not span.get("labels"):
            tags.append("O")
        elif span_start <= token_end and span_end >= token_start:
            tags.append(prefix + span["labels"][0])
            prefix = "I-"
        else:
            tags.append("O")
    return tokens, tags


FORMATS = [CONLL2003Format()]
