"""The TinyDB file store. Knows nothing of HTTP, windows or label configs."""

from .journal import CorruptFile
from .store import Store, StoreLocked

__all__ = ["Store", "StoreLocked", "CorruptFile"]
