"""Live changes for agent consoles, as server-sent events (text/event-stream).

Works across processes without a message bus: each open stream polls the database every
CRM_EVENTS_POLL_SECONDS for tickets changed (`updated_at`) and messages written (`created_at`)
since its cursor, both indexed. So a change made by any CRM process, or by the assistant through
the API, reaches every console within about a second. Per connection that is two small indexed
queries a second.

Rows can commit a little after the time they carry (the timestamp is taken at flush), so each
poll looks back LAG before the cursor and drops what this stream already sent (ticket id and
version, message id). Every event's `id:` is its row's time; a client that reconnects with
`Last-Event-ID` resumes there, and may see an event twice, never miss one. Events:

- `ready`: the stream is live; `{"cursor", "resumed"}`. When not resumed, load the snapshot
  (GET /api/v1/console/queue) now: anything changed after that comes as events.
- `ticket`: a ticket as in the queue (TicketOut with customer_name and assignee_name).
- `message`: a ticket message (with author_name). Internal notes only for staff.

A stream ends after STREAM_SECONDS; the client reconnects with its Last-Event-ID, which also
checks its token again (so an expired token or a deactivated account stops streaming).
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from fastapi.encoders import jsonable_encoder
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from crm_backend.console import service
from crm_backend.core.db import get_sessionmaker, utcnow
from crm_backend.tickets.models import Ticket, TicketMessage

LAG = timedelta(seconds=5)
# A cursor older than this is not resumed: the client reloads its snapshot instead.
MAX_RESUME = timedelta(minutes=15)
BATCH = 500
KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 300
RETRY_MS = 1000


def parse_cursor(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        cursor = datetime.fromisoformat(value)
    except ValueError:
        return None
    if cursor.tzinfo is None:
        return None
    now = utcnow()
    if cursor < now - MAX_RESUME or cursor > now + LAG:
        return None
    return cursor


class ChangeFeed:
    """What one stream has sent, and where it is."""

    def __init__(self, cursor: datetime, *, include_internal: bool):
        self.cursor = cursor
        self.include_internal = include_internal
        self.sent_tickets: dict[int, tuple[int, datetime]] = {}
        self.sent_messages: dict[int, datetime] = {}

    def poll(self) -> list[tuple[str, datetime, dict]]:
        """(event, time, data) for everything new since the last poll, oldest first."""
        since = self.cursor - LAG
        with get_sessionmaker()() as session:
            ticket_rows = list(session.scalars(
                select(Ticket).where(Ticket.updated_at > since)
                .order_by(Ticket.updated_at, Ticket.id).limit(BATCH)))
            ticket_rows = [t for t in ticket_rows
                           if self.sent_tickets.get(t.id, (None,))[0] != t.version]
            stmt = select(TicketMessage).where(TicketMessage.created_at > since)
            if not self.include_internal:
                stmt = stmt.where(TicketMessage.internal.is_(False))
            message_rows = [m for m in session.scalars(
                stmt.order_by(TicketMessage.created_at, TicketMessage.id).limit(BATCH))
                if m.id not in self.sent_messages]
            events = [("ticket", t.updated_at, t.model_dump(mode="json"))
                      for t in service.with_names(session, ticket_rows)]
            events += [("message", m.created_at, m.model_dump(mode="json"))
                       for m in service.with_author_names(session, message_rows)]
        for t in ticket_rows:
            self.sent_tickets[t.id] = (t.version, t.updated_at)
        for m in message_rows:
            self.sent_messages[m.id] = m.created_at
        events.sort(key=lambda e: e[1])
        if events:
            self.cursor = max(self.cursor, events[-1][1])
        self._forget(self.cursor - LAG)
        return events

    def _forget(self, before: datetime) -> None:
        self.sent_tickets = {k: v for k, v in self.sent_tickets.items() if v[1] > before}
        self.sent_messages = {k: v for k, v in self.sent_messages.items() if v > before}


def format_event(event: str, data: dict, event_id: datetime | None = None) -> str:
    lines = [f"id: {event_id.isoformat()}"] if event_id else []
    lines += [f"event: {event}", "data: " + json.dumps(jsonable_encoder(data),
                                                        separators=(",", ":"))]
    return "\n".join(lines) + "\n\n"


async def stream(request: Request, feed: ChangeFeed, *, resumed: bool,
                 poll_seconds: float) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    yield format_event("ready", {"cursor": feed.cursor.isoformat(), "resumed": resumed},
                       feed.cursor)
    started = last_sent = time.monotonic()
    while time.monotonic() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        for event, at, data in await run_in_threadpool(feed.poll):
            yield format_event(event, data, at)
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
            yield ": keepalive\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(poll_seconds)
