"""Two rules of the layout (docs/adr/0008-layout.md), read from the source with ast:

* routes are thin: nothing in desktop/api/ takes the store's lock or opens a transaction (the
  domain method a route calls takes its own, so the CLI, push/pull and the bridge call it safely);
* the store has a public read (JournaledTable.docs()): nothing outside desktop/db/ calls TinyDB's
  private `_read_table()`.

Each failure names the file and line.
"""

import ast
from pathlib import Path

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
STORE_GUARDS = {"lock", "transaction"}  # records.lock, store.lock, records.transaction()


def _modules(folder):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path, node):
    return f"{path.relative_to(DESKTOP.parent)}:{node.lineno}"


def _guard_name(expr):
    """`lock` for `x.lock` / `x.lock.acquire()`, `transaction` for `x.transaction()`."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Attribute) and expr.attr == "acquire":
        expr = expr.value
    if isinstance(expr, ast.Attribute) and expr.attr in STORE_GUARDS:
        return expr.attr
    return None


def test_no_route_takes_the_store_lock():
    found = []
    for path, tree in _modules(DESKTOP / "api"):
        for node in ast.walk(tree):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                found += [f"{_where(path, node)}: with ...{_guard_name(item.context_expr)}"
                          for item in node.items if _guard_name(item.context_expr)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "acquire" and _guard_name(node.func):
                found.append(f"{_where(path, node)}: ....lock.acquire()")
    assert not found, ("routes take the store's lock; move the block into a domain method "
                       "that takes it (desktop/core/records.py: locked):\n" + "\n".join(found))


def test_nothing_outside_the_store_reads_tinydb_private_tables():
    found = []
    for path, tree in _modules(DESKTOP):
        if path.parent.name == "db" and path.parent.parent == DESKTOP:
            continue
        found += [_where(path, node) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and node.attr == "_read_table"]
    assert not found, ("TinyDB's private _read_table() outside desktop/db/; use the store's "
                       "public JournaledTable.docs():\n" + "\n".join(found))


def test_the_rules_see_what_they_forbid():
    """The checks above would catch a lock, a transaction and a private read."""
    route = ast.parse("def r():\n    with core.records.lock:\n        pass\n"
                      "    with records.transaction():\n        pass\n"
                      "    store.lock.acquire()\n")
    withs = [n for n in ast.walk(route) if isinstance(n, ast.With)]
    assert [_guard_name(w.items[0].context_expr) for w in withs] == ["lock", "transaction"]
    calls = [n for n in ast.walk(route) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "acquire"]
    assert _guard_name(calls[0].func) == "lock"
    read = ast.parse("docs = table._read_table()")
    assert any(isinstance(n, ast.Attribute) and n.attr == "_read_table" for n in ast.walk(read))
