"""Business-hours arithmetic for ticket SLAs.

SLA clocks run only inside business hours (a daily window on given weekdays, in a local
timezone, so daylight-saving changes are respected). All inputs and outputs are UTC-aware.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_backend.core.config import BusinessHours, get_settings
from crm_backend.tickets.models import Priority


def _windows(start_local: datetime, bh: BusinessHours):
    """Business windows (local open, local close) from the day of start_local onwards."""
    day = start_local.date()
    tz = start_local.tzinfo
    while True:
        if day.isoweekday() in bh.weekdays:
            opens = datetime.combine(day, bh.start, tz)
            closes = datetime.combine(day, bh.end, tz)
            yield opens, closes
        day += timedelta(days=1)


def _check(bh: BusinessHours) -> None:
    if not bh.weekdays or bh.end <= bh.start:
        raise ValueError("business hours need at least one weekday and end after start")


def add_business_hours(start: datetime, hours: float, bh: BusinessHours | None = None
                       ) -> datetime:
    """The moment `hours` of business time after `start` (zero hours: `start` itself)."""
    bh = bh or get_settings().business_hours
    _check(bh)
    if hours <= 0:
        return start
    tz = ZoneInfo(bh.timezone)
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(tz)
    for opens, closes in _windows(cursor, bh):
        # Wall-clock windows are converted through UTC so DST days have their true length.
        opens_utc, closes_utc = opens.astimezone(UTC), closes.astimezone(UTC)
        cursor_utc = cursor.astimezone(UTC)
        if closes_utc <= cursor_utc:
            continue
        begin = max(opens_utc, cursor_utc)
        available = closes_utc - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
        cursor = closes
    raise AssertionError("unreachable: there is always another business day")


def business_hours_between(start: datetime, end: datetime, bh: BusinessHours | None = None
                           ) -> float:
    """Business hours elapsed from `start` to `end` (0 if end <= start)."""
    bh = bh or get_settings().business_hours
    _check(bh)
    if end <= start:
        return 0.0
    tz = ZoneInfo(bh.timezone)
    total = timedelta()
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    for opens, closes in _windows(start.astimezone(tz), bh):
        opens_utc, closes_utc = opens.astimezone(UTC), closes.astimezone(UTC)
        if opens_utc >= end_utc:
            break
        overlap = min(closes_utc, end_utc) - max(opens_utc, start_utc)
        if overlap > timedelta():
            total += overlap
    return total.total_seconds() / 3600


def due_times(created_at: datetime, priority: Priority) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket of this priority."""
    first, resolve = get_settings().sla_hours[Priority(priority).value]
    return add_business_hours(created_at, first), add_business_hours(created_at, resolve)
