"""The TinyDB file store. Knows nothing of HTTP, windows or label configs.

What the rest of LabelDesk uses: `Store` (tables, `transaction()`, `lock`, indexes), a table's
TinyDB methods for writes, and its public reads `doc(id)` and `docs()` (the live {id: doc}
mapping, never to be changed; iterate it holding `store.lock`). TinyDB's private
`_read_table()` stays inside this package (tests/unit/test_layout_rules.py). The history log
(`store.storage.history`, db/history.py) keeps versions that commit hooks
(`store.storage.before_commit`) make of each transaction, out of the tables and the snapshot.
"""

from desktop.db.journal import CorruptFile
from desktop.db.store import Store, StoreLocked

__all__ = ["Store", "StoreLocked", "CorruptFile"]
