"""CSV/TSV rows as LS reads them with `pandas.read_csv(...).fillna('')`, without pandas.

What matters for tasks to compare equal to LS's: pandas' NA strings become "", and a column whose
every non-empty cell is an int becomes ints (floats when a cell is empty, because NaN forces the
column to float64), all-numeric becomes floats, all True/False becomes bools; any other column
keeps every cell as its original string.
"""

import csv
import gc
import io
import itertools
import re

csv.field_size_limit(131072 * 10)

# pandas' default na_values
NA = {
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
}
INT = re.compile(r"\s*[+-]?[0-9]+\s*")
FLOAT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity)\s*", re.IGNORECASE
)
TRUE, FALSE = {"True", "TRUE", "true"}, {"False", "FALSE", "false"}
LINE_END = re.compile(r"\r\n|\r|\n")


class CSVError(ValueError):
    pass


def read_rows(text, delimiter, wrap=None):
    """List of dicts, one per non-blank row, keys from the header row (each in {wrap: row} if
    given)."""
    # Millions of small containers and no cycles: the cyclic GC would only rescan them again
    # and again (it doubles the time on a 100k-row file).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return parse_rows(text, delimiter, wrap)
    finally:
        if enabled:
            gc.enable()


def parse_rows(text, delimiter, wrap):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # pandas numbers records with blank lines among them ("line" from 1, "row" from 0)
    rows, blanks, index, start_line, end_line = [], [], -1, 0, 0
    try:
        for index, row in enumerate(reader):
            if row:
                rows.append(row)
            else:
                blanks.append(index)
            start_line, end_line = end_line, reader.line_num
    except csv.Error as exc:
        raise CSVError(str(exc)) from None
    if rows and '"' in text and open_quote_at_end(last_record(text, start_line), delimiter):
        raise CSVError("Error tokenizing data. C error: EOF inside string starting at row "
                       f"{index}")
    if not rows:
        raise CSVError("No columns to parse from file")
    header, rows = unique_names(rows[0]), rows[1:]
    width = len(header)
    if rows and len(rows[0]) == width + 1:
        # pandas then takes the first column as the index, which to_dict() drops
        rows = [row[1:] if len(row) == width + 1 else row for row in rows]
    for number, row in enumerate(rows, start=1):
        if len(row) > width:
            raise CSVError(f"Error tokenizing data. C error: Expected {width} fields in line "
                           f"{record_index(number, blanks) + 1}, saw {len(row)}\n")
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    columns = [convert_column(list(cells)) for cells in zip(*rows)] if rows else []
    if wrap:
        return [{wrap: dict(zip(header, values))} for values in zip(*columns)]
    return [dict(zip(header, values)) for values in zip(*columns)]


def record_index(number, blanks):
    """The index among all records, blank lines included, of the `number`th non-blank one
    (0: the header)."""
    index = number
    for blank in blanks:
        if blank > index:
            break
        index += 1
    return index


def last_record(text, start_line):
    """The text of the file from line `start_line` (0-based, lines ending in \\n, \\r\\n or
    \\r as the csv reader splits them) to its end."""
    if start_line == 0:
        return text
    ends = itertools.islice(LINE_END.finditer(text), start_line - 1, None)
    end = next(ends, None)
    return text[end.end():] if end is not None else ""


def open_quote_at_end(record, delimiter):
    """Whether one record's text ends inside a quoted field, which pandas refuses ("EOF inside
    string") and Python's csv module takes as a field running to the end of the file. pandas'
    quoting: a quote opens a quoted field only at the field's start; inside, "" is a quote;
    text after the closing quote joins the field."""
    i, end = 0, len(record)
    stop = re.compile("[" + re.escape(delimiter) + "\r\n]")
    while i < end:
        if record[i] == '"':
            i += 1
            while True:
                quote = record.find('"', i)
                if quote < 0:
                    return True
                if record.startswith('""', quote):
                    i = quote + 2
                    continue
                i = quote + 1
                break
        found = stop.search(record, i)
        if found is None or found.group() != delimiter:
            return False  # the record ended (or the file did) outside any quotes
        i = found.end()
    return False


def unique_names(names):
    """pandas' header rules: empty names become "Unnamed: <i>", duplicates get ".1", ".2"..."""
    out, seen = [], {}
    for i, name in enumerate(names):
        name = name if name else f"Unnamed: {i}"
        base = name
        while name in seen:
            seen[base] += 1
            name = f"{base}.{seen[base]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def convert_column(cells):
    present = [c for c in cells if c not in NA]
    has_na = len(present) != len(cells)
    if not present:
        return [""] * len(cells)
    if not has_na:
        # Fast path for the common all-filled numeric column; int()/float() alone would also
        # take "1_000", "nan" or non-ASCII digits, which pandas leaves as text.
        numbers = as_numbers(cells)
        if numbers is not None:
            return numbers
    if all(INT.fullmatch(c) for c in present):
        cast = float if has_na else int
        return [cast(int(c)) if c not in NA else "" for c in cells]
    if all(FLOAT.fullmatch(c) for c in present):
        return [float(c) if c not in NA else "" for c in cells]
    if all(c in TRUE or c in FALSE for c in present):
        return [(c in TRUE) if c not in NA else "" for c in cells]
    return ["" if c in NA else c for c in cells]


def as_numbers(cells):
    if not INT.fullmatch(cells[0]) and not FLOAT.fullmatch(cells[0]):
        return None
    joined = "".join(cells)
    if not joined.isascii() or "_" in joined or "n" in joined or "N" in joined:
        return None
    try:
        return list(map(int, cells))
    except ValueError:
        pass
    try:
        return list(map(float, cells))
    except ValueError:
        return None
