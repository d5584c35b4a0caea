"""Requests the CRM must not lose. When the CRM is down, a write the customer is waiting for
(a ticket, a handoff) is stored here, in an SQLite file, and delivered when the CRM is back.

Each entry carries the idempotency key it was first sent with, so the CRM stores it exactly
once however many times delivery is tried (and even if an earlier try did arrive but its
answer was lost). A daemon thread retries pending entries every OUTBOX_INTERVAL seconds.

OUTBOX_PATH      the SQLite file (default var/outbox.db)
OUTBOX_INTERVAL  seconds between delivery rounds (default 5)
"""

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from actions import crm

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at REAL
)"""


def _connect() -> sqlite3.Connection:
    path = Path(os.environ.get("OUTBOX_PATH", "var/outbox.db"))
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(SCHEMA)
    return conn


def store(method: str, path: str, body: dict, idempotency_key: str) -> None:
    with _connect() as conn:
        conn.execute("INSERT OR IGNORE INTO outbox (idempotency_key, method, path, body, "
                     "created_at) VALUES (?, ?, ?, ?, ?)",
                     (idempotency_key, method, path, json.dumps(body), time.time()))


async def send_or_store(method: str, path: str, body: dict, idempotency_key: str):
    """Deliver now if the CRM answers; otherwise keep it for later and return None.
    A refusal (4xx) is not stored: retrying would not change the answer."""
    try:
        return await crm.request(method, path, json=body, idempotency_key=idempotency_key)
    except crm.CrmUnavailable:
        store(method, path, body, idempotency_key)
        log.info("CRM down: kept %s %s for later delivery (key %s)", method, path,
                 idempotency_key)
        return None


def pending() -> list[tuple]:
    with _connect() as conn:
        return conn.execute("SELECT id, idempotency_key, method, path, body FROM outbox "
                            "WHERE delivered_at IS NULL ORDER BY id").fetchall()


async def deliver_pending() -> int:
    """One delivery round, oldest first; stops at the first entry the CRM cannot take yet."""
    delivered = 0
    for row_id, key, method, path, body in pending():
        try:
            await crm.request(method, path, json=json.loads(body), idempotency_key=key)
            error = None
        except crm.CrmUnavailable as exc:
            _note_attempt(row_id, str(exc))
            break
        except crm.CrmRejected as exc:
            # Settled all the same: retrying would not change the answer. The reason stays.
            error = f"rejected {exc.status}: {exc.message}"
        with _connect() as conn:
            conn.execute("UPDATE outbox SET delivered_at = ?, last_error = ?, "
                         "attempts = attempts + 1 WHERE id = ?", (time.time(), error, row_id))
        delivered += 1
    return delivered


def _note_attempt(row_id: int, error: str) -> None:
    with _connect() as conn:
        conn.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                     (error[:500], row_id))


def _loop(interval: float) -> None:
    while True:
        try:
            if pending():
                count = asyncio.run(deliver_pending())
                if count:
                    log.info("Outbox: delivered %d held request(s) to the CRM", count)
        except Exception:  # the worker must outlive any single bad round
            log.exception("Outbox delivery round failed")
        time.sleep(interval)


_started = False


def start_worker() -> None:
    global _started
    if _started:
        return
    _started = True
    interval = float(os.environ.get("OUTBOX_INTERVAL", "5"))
    threading.Thread(target=_loop, args=(interval,), name="crm-outbox", daemon=True).start()
