"""The TinyDB file store. Knows nothing of HTTP, windows or label configs."""

from desktop.db.journal import CorruptFile
from desktop.db.store import Store, StoreLocked

__all__ = ["Store", "StoreLocked", "CorruptFile"]
