"""Business-hours arithmetic, by example and by property."""

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_backend.core.config import BusinessHours
from crm_backend.tickets.sla import add_business_hours, business_hours_between

BH = BusinessHours(timezone="Europe/Berlin", start=time(9), end=time(17), weekdays=[1, 2, 3, 4, 5])
# Monday 2026-03-23 10:00 in Berlin (CET, UTC+1) is 09:00 UTC.
MONDAY_10 = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def test_examples():
    assert add_business_hours(MONDAY_10, 2, BH) == MONDAY_10 + timedelta(hours=2)
    # 10 hours from Monday 10:00: 7 on Monday, 3 on Tuesday -> Tuesday 12:00 local.
    assert add_business_hours(MONDAY_10, 10, BH) == datetime(2026, 3, 24, 11, 0, tzinfo=UTC)
    # Friday 16:00 + 2 h -> Monday 10:00.
    friday_16 = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    assert add_business_hours(friday_16, 2, BH) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    # Saturday counts from Monday's opening; Monday 30 March is already summer time (UTC+2).
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert add_business_hours(saturday, 1, BH) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC))
hours = st.floats(min_value=0, max_value=200, allow_nan=False).map(lambda h: round(h, 3))


@settings(max_examples=200)
@given(moments, hours, hours)
def test_adding_in_two_steps_equals_adding_once(start, a, b):
    assert add_business_hours(add_business_hours(start, a, BH), b, BH) == \
        add_business_hours(start, a + b, BH)


@settings(max_examples=200)
@given(moments, hours)
def test_result_is_later_and_holds_exactly_the_hours(start, h):
    end = add_business_hours(start, h, BH)
    assert end >= start
    assert abs(business_hours_between(start, end, BH) - h) < 1e-6


@settings(max_examples=200)
@given(moments, st.floats(min_value=0.001, max_value=200, allow_nan=False))
def test_positive_durations_end_inside_business_hours(start, h):
    from zoneinfo import ZoneInfo

    local = add_business_hours(start, h, BH).astimezone(ZoneInfo(BH.timezone))
    assert local.isoweekday() in BH.weekdays
    assert BH.start < local.time() <= BH.end or local.time() == BH.end


@given(moments)
def test_zero_hours_inside_business_hours_is_the_same_instant(start):
    from zoneinfo import ZoneInfo

    local = start.astimezone(ZoneInfo(BH.timezone))
    if local.isoweekday() in BH.weekdays and BH.start <= local.time() < BH.end:
        assert add_business_hours(start, 0, BH) == start
