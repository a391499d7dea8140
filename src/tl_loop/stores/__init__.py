"""Stores behind small interfaces: the translation memory (in memory, SQLite, Redis,
PostgreSQL), the shared machine cache, and the breaker ledgers relay replicas share.

```python
from tl_loop.stores import MemoryEntry, SQLiteTranslationMemory

with SQLiteTranslationMemory("memory.sqlite3") as memory:
    memory.put(MemoryEntry(source_text="Hola ⟦0⟧", target_text="Hi ⟦0⟧",
                           source="es", target="en", glossary_version=None))
```
"""

from tl_loop.stores._memory import (
    InMemoryTranslationMemory,
    MemoryEntry,
    MemoryOrigin,
    TranslationMemory,
    memory_key,
    normalize_segment,
)
from tl_loop.stores._postgres import PostgresTranslationMemory
from tl_loop.stores._postgres_guard import PostgresGuardLedger
from tl_loop.stores._redis import RedisTranslationMemory
from tl_loop.stores._redis_cache import RedisTranslationCache
from tl_loop.stores._redis_guard import RedisGuardLedger
from tl_loop.stores._sqlite import SQLiteTranslationMemory

__all__ = [
    "InMemoryTranslationMemory",
    "MemoryEntry",
    "MemoryOrigin",
    "PostgresGuardLedger",
    "PostgresTranslationMemory",
    "RedisGuardLedger",
    "RedisTranslationCache",
    "RedisTranslationMemory",
    "SQLiteTranslationMemory",
    "TranslationMemory",
    "memory_key",
    "normalize_segment",
]
