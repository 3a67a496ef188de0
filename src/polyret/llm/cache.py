"""A persistent, process-safe cache of LLM answers in one SQLite file.

Keys are sha256 digests of ``(backend kind, model, messages, params)`` as canonical JSON:
never the API key or the endpoint's address, so moving a server does not invalidate the
cache and no secret reaches the file. Each write is its own transaction (SQLite's
journal makes it atomic), the database runs in WAL mode so several processes can read
while one writes, and busy writers wait instead of failing. Failed answers are never
stored, so a resumed job retries exactly what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


def cache_key(kind: str, model: str, messages: Any, params: dict[str, Any]) -> str:
    """sha256 of the request's canonical JSON.

    Example:
        >>> a = cache_key("chat", "m", [{"role": "user", "content": "hi"}], {"temperature": 0})
        >>> a == cache_key("chat", "m", [{"content": "hi", "role": "user"}], {"temperature": 0})
        True
    """
    payload = json.dumps(
        {"kind": kind, "model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
