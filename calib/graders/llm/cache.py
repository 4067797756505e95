"""SQLite response cache: JSON values, no pickle, keyed by what changes the output.

The key is the sha256 of the canonical JSON of ``{endpoint, model, messages, params,
response_format, sample}`` -- exactly the fields that change an answer, and nothing else
(not the API key, not timeouts or concurrency). Only successful answers are stored (an answer
that could not be parsed *is* a success of the call and is cached; HTTP errors and timeouts
are not), and every answer is committed as soon as it arrives, so a run that is killed can be
restarted and re-uses everything that was already paid for.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from pathlib import Path

from calib.errors import GraderError
from calib.graders.base import canonical_json
from calib.graders.llm.provider import ChatRequest, ChatResponse

__all__ = ["ResponseCache", "cache_key"]

log = logging.getLogger("calib.graders.llm")


def cache_key(endpoint: str, request: ChatRequest, sample: int) -> str:
    """Hex sha256 of the output-affecting fields of one call.

    Examples
    --------
    >>> r = ChatRequest("m", ({"role": "user", "content": "x"},), {"temperature": 0})
    >>> cache_key("http://h/v1", r, 0) == cache_key("http://h/v1", r, 1)
    False
    """
    payload = {
        "endpoint": endpoint,
        "model": request.model,
        "messages": list(request.messages),
        "params": request.params,
        "response_format": request.response_format,
        "sample": int(sample),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class ResponseCache:
    """A small SQLite key-value store of :class:`ChatResponse` as JSON.

    Parameters
    ----------
    path : str or Path or None
        Database file (created with its folder). ``None`` or ``":memory:"`` keeps the
        cache in memory for one process.

    Examples
    --------
    >>> c = ResponseCache(None)
    >>> c.put("k", ChatResponse("{}", "stop"))
    >>> c.get("k").finish_reason
    'stop'
    >>> c.close()
    """

    def __init__(self, path: str | os.PathLike | None):
        self.path = None if path in (None, ":memory:") else Path(path)
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(":memory:" if self.path is None else str(self.path))
            # WAL: a kill during a write leaves the committed rows intact and readable.
            if self.path is not None:
                self._con.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode: a committed answer survives a killed process (the
                # case that matters for resuming); only an OS crash can lose the last few.
                self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS responses ("
                " key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at REAL NOT NULL)"
            )
            self._con.commit()
        except sqlite3.DatabaseError as exc:
            raise GraderError(f"LLM cache {self.path}: cannot open ({exc})") from None

    def get(self, key: str) -> ChatResponse | None:
        """The cached response for ``key``, or None."""
        row = self._con.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            # A cached answer can never crash a run: an unreadable value (corrupt, or nested
            # too deeply to decode) is a cache miss, and the call is made again.
            return ChatResponse.from_dict(json.loads(row[0]))
        except (ValueError, TypeError, RecursionError) as exc:
            log.warning("LLM cache %s: unreadable entry %s… ignored (%s)", self.path, key[:12], exc)
            return None

    def put(self, key: str, response: ChatResponse) -> None:
        """Store (or replace) one successful response and commit immediately."""
        value = json.dumps(response.to_dict(), ensure_ascii=False, allow_nan=False)
        self._con.execute(
            "INSERT OR REPLACE INTO responses (key, value, created_at) VALUES (?, ?, ?)",
            (key, value, time.time()),
        )
        self._con.commit()

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
