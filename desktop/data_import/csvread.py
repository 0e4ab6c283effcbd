"""CSV/TSV rows as LS reads them with `pandas.read_csv(...).fillna('')`, without pandas.

What matters for tasks to compare equal to LS's: pandas' NA strings become "", and a column whose
every non-empty cell is an int becomes ints (floats when a cell is empty, because NaN forces the
column to float64), all-numeric becomes floats, all True/False becomes bools; any other column
keeps every cell as its original string.
"""

import csv
import gc
import io
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
    try:
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise CSVError(str(exc)) from None
    if not rows:
        raise CSVError("No columns to parse from file")
    header, rows = unique_names(rows[0]), rows[1:]
    width = len(header)
    if rows and len(rows[0]) == width + 1:
        # pandas then takes the first column as the index, which to_dict() drops
        rows = [row[1:] if len(row) == width + 1 else row for row in rows]
    for line, row in enumerate(rows, start=2):
        if len(row) > width:
            raise CSVError(f"Error tokenizing data. C error: Expected {width} fields in line "
                           f"{line}, saw {len(row)}\n")
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    columns = [convert_column(list(cells)) for cells in zip(*rows)] if rows else []
    if wrap:
        return [{wrap: dict(zip(header, values))} for values in zip(*columns)]
    return [dict(zip(header, values)) for values in zip(*columns)]


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
