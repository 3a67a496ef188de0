"""A persistent, process-safe key → JSON store in one SQLite file.

Each write is its own transaction (SQLite's journal makes it atomic), the database runs in
WAL mode so several processes can read while one writes, and busy writers wait instead of
failing. LLM clients keep their answers in it (:mod:`polyret.llm.cache`), rerankers their
scores (:class:`polyret.rerank.base.ScoreCache`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["SQLiteCache"]


class SQLiteCache:
    """A key → JSON value table in one SQLite file, shared by threads and processes.

    Args:
        path: The database file (created with its parent folders).
        table: Table name (one file can hold several tables, e.g. answers and scores).

    Example:
        >>> import tempfile
        >>> cache = SQLiteCache(tempfile.mkdtemp() + "/llm.sqlite")
        >>> cache.put("k", {"text": "yes"}); cache.get("k"), cache.get("missing")
        ({'text': 'yes'}, None)
    """

    def __init__(self, path: str | os.PathLike[str], table: str = "answers") -> None:
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.table = table
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            str(self.path), timeout=60.0, check_same_thread=False, isolation_level=None
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
            )

    def get(self, key: str) -> Any | None:
        """The stored value, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT value FROM {self.table} WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """Stored values of the keys present (chunked ``IN`` queries)."""
        found: dict[str, Any] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, value FROM {self.table} WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serializable) under ``key`` in one transaction."""
        self.put_many({key: value})

    def put_many(self, items: dict[str, Any]) -> None:
        """Store several values in one transaction."""
        if not items:
            return
        now = time.time()
        rows = [(k, json.dumps(v, ensure_ascii=False), now) for k, v in items.items()]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO {self.table} (key, value, created) VALUES (?, ?, ?)",
                    rows,
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r}, table={self.table!r})"
