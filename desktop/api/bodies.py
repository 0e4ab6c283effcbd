"""Request bodies, read once and in blocks before the route runs: kept in memory while small,
spooled past MEMORY_LIMIT to a temporary file in <data>/tmp; multipart/form-data bodies are
parsed from there in blocks by the `multipart` library's push parser (by Bottle's author; the parts
it streams are written where we choose: <data>/tmp), urlencoded ones by parse_qsl, and what the
routes read
(`request.body`, `request.forms`, `request.files`) is then Bottle's usual objects over them.

Why not Bottle's own reading (docs/security.md, issues 13-14):
* it keeps at most MEMFILE_MAX (100 KB) of form data in memory and answers more with 400/413:
  several small files in one import, or a raw project zip over 100 KB, failed;
* it spools to the system's temp folder, not the data folder's;
* a part header with bytes that aren't UTF-8 or with control characters raised
  UnicodeDecodeError / ValueError deep inside it: a 500 on every route that reads forms.
Here a malformed body is one 400 in Label Studio's envelope, for every route, decided here.

Temporary files come from tempfile (SpooledTemporaryFile / TemporaryFile) in <data>/tmp: 0600,
unlinked from the start on POSIX (on Linux never even named), so nothing is left behind, even
after a crash; they are closed when the request ends. Memory stays flat whatever the body size:
only form fields without a filename (text) are kept in memory, MAX_TEXT_BYTES at most.
"""

import os
import re
import tempfile
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, unquote

import bottle
import multipart

from desktop.core.errors import TooLarge, ValidationError

BLOCK = 256 * 1024  # bytes read at a time
MEMORY_LIMIT = 1024 * 1024  # a body (or an uploaded file) bigger than this goes to disk
MAX_PARTS = 1000  # parts of a multipart body (Label Studio: DATA_UPLOAD_MAX_NUMBER_FIELDS)
MAX_HEADER_BYTES = 16 * 1024  # one header line of a part
MAX_HEADERS = 8  # header lines of a part (RFC 7578 uses 3)
MAX_TEXT_BYTES = 32 * 1024 * 1024  # form fields without a filename, all together
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed (header folding)
KEY = "labeldesk.bodies"  # environ: the files to close at the end of the request


class Malformed(ValidationError):
    def __init__(self, reason):
        super().__init__(f"Malformed multipart body: {reason}")


def temp_dir(data_dir):
    """<data>/tmp; the system's temp folder when the data folder can't be written to (a
    read-only data folder still answers requests that write nothing, e.g. validation)."""
    path = Path(data_dir) / "tmp"
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return str(path) if os.access(path, os.W_OK) else None


def prepare(environ, data_dir, max_bytes):
    """Read the body of the request in `environ` into a spool and parse its form, if any.

    Sets what Bottle's request reads lazily otherwise ("bottle.request.body" and
    "bottle.request.post"), so the routes keep using request.body/forms/files unchanged.
    """
    if KEY in environ:
        return
    opened = environ[KEY] = []
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        environ["bottle.request.body"] = environ["wsgi.input"] = BytesIO()
        environ["bottle.request.post"] = bottle.FormsDict()
        return
    if length > max_bytes:
        raise TooLarge(f"Request body is too large: {length} bytes; the limit is {max_bytes} "
                       "bytes.")
    folder = temp_dir(data_dir)
    body = spool(environ["wsgi.input"], length, folder, opened)
    environ["bottle.request.body"] = environ["wsgi.input"] = body
    kind, options = content_type(environ.get("CONTENT_TYPE") or "")
    if kind == "multipart/form-data":
        post = parse_multipart(body, options.get("boundary"), folder, opened)
    elif kind == "application/x-www-form-urlencoded":
        post = parse_urlencoded(body, length)
    else:
        post = bottle.FormsDict()  # Bottle would parse any other body as a form (413 > 100 KB)
    body.seek(0)
    environ["bottle.request.post"] = post


def release(environ):
    """Close (and so remove) the request's temporary files."""
    for f in environ.pop(KEY, ()):
        try:
            f.close()
        except OSError:
            pass


def spool(source, length, folder, opened):
    body = tempfile.SpooledTemporaryFile(max_size=MEMORY_LIMIT, dir=folder)
    opened.append(body)
    left = length
    while left > 0:
        block = source.read(min(BLOCK, left))
        if not block:
            raise ValidationError(f"The request body ended after {length - left} of the "
                                  f"{length} bytes its Content-Length announced.")
        body.write(block)
        left -= len(block)
    body.seek(0)
    return body


def content_type(value):
    """('multipart/form-data', {'boundary': ...}) from a Content-Type header."""
    return multipart.parse_options_header(value)


def parse_urlencoded(body, length):
    if length > MAX_TEXT_BYTES:
        raise TooLarge(f"Form too large: {length} bytes; a form (without files) may have "
                       f"{MAX_TEXT_BYTES} bytes.")
    text = body.read().decode("latin-1")  # as Bottle: getunicode() recodes to UTF-8
    post = bottle.FormsDict()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="latin-1",
                          max_num_fields=MAX_PARTS)
    except ValueError as e:  # too many fields
        raise ValidationError(f"Malformed form body: {e}") from None
    for key, value in pairs:
        post[key] = value
    return post


def parse_multipart(body, boundary, folder, opened):
    """A FormsDict as Bottle's: text fields as str, file parts as bottle.FileUpload (spooled to
    <data>/tmp past MEMORY_LIMIT / 4). The `multipart` library splits the body, checks its syntax
    and counts parts and header sizes; any MultipartError is a 400 here. What it lets through and
    we refuse (control characters, fields that aren't UTF-8) and RFC 5987 filename* are ours."""
    if not boundary or len(boundary) > 200 or CONTROL.search(boundary) or not boundary.isascii():
        raise Malformed("no usable boundary in its Content-Type.")
    post = bottle.FormsDict()
    post.recode_unicode = False  # values are str already (Bottle does the same)
    parser = multipart.PushMultipartParser(boundary, max_header_size=MAX_HEADER_BYTES,
                                           max_header_count=MAX_HEADERS,
                                           max_segment_count=MAX_PARTS)
    number = text_bytes = 0
    try:
        for event in parser.parse_blocking(body.read, BLOCK):
            if isinstance(event, multipart.MultipartSegment):  # a part's headers
                number, segment = number + 1, event
                name, filename = part_names(segment, number)
                if filename:  # browsers send filename="" for an empty file input: a field
                    target = tempfile.SpooledTemporaryFile(max_size=MEMORY_LIMIT // 4,
                                                           dir=folder)
                    opened.append(target)
                else:
                    target = BytesIO()
            elif event is not None:  # a block of the part's content
                if not filename:
                    text_bytes += len(event)
                    if text_bytes > MAX_TEXT_BYTES:
                        raise TooLarge(f"Form fields too large: more than {MAX_TEXT_BYTES} "
                                       "bytes of fields without a filename (send data as a "
                                       "file).")
                target.write(event)
            elif filename:  # the part's end
                target.seek(0)
                kept = [(k, v) for k, v in segment.headerlist if k == "Content-Type"]
                post[name] = bottle.FileUpload(target, name, filename, kept)
            else:
                try:
                    post[name] = target.getvalue().decode("utf-8")
                except UnicodeDecodeError:
                    raise Malformed(f"field {name!r} is not UTF-8 text (send binary data as "
                                    "a file, with a filename).") from None
    except multipart.MultipartError as e:  # its messages: "Maximum segment count exceeded"
        reason = str(e.args[0] if e.args else "invalid")
        if isinstance(e, multipart.ParserLimitReached):
            reason += (f" (at most {MAX_PARTS} parts, {MAX_HEADERS} header lines of "
                       f"{MAX_HEADER_BYTES} bytes a part)")
        raise Malformed(f"{reason[:1].lower()}{reason[1:]}.") from None
    return post


def part_names(segment, number):
    """(field name, file name or None) of a part. The library lets control characters through
    in header values (and decodes %0D/%0A in names): they used to be 500s, they are refused."""
    if any(CONTROL.search(value) for _, value in segment.headerlist):
        raise Malformed(f"part {number}'s headers hold control characters.")
    _, params = multipart.parse_options_header(segment.header("Content-Disposition"))
    if "name" not in params:
        raise Malformed(f"part {number} has no name.")
    filename = segment.filename
    extended = params.get("filename*")
    if extended is not None:  # RFC 5987: UTF-8''caf%C3%A9.txt (the library keeps it raw)
        charset, _, encoded = extended.partition("''")
        try:
            filename = unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            raise Malformed(f"part {number}'s filename* can't be decoded.") from None
    if CONTROL.search(segment.name) or CONTROL.search(filename or ""):
        raise Malformed(f"part {number}'s name or file name holds control characters.")
    return segment.name, filename
