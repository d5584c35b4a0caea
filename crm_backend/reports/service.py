"""Sales, ticket and campaign figures, aggregated in SQL on SQLite and PostgreSQL alike."""

import math
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Date, Select, case, cast, func, null, select
from sqlalchemy.orm import Session

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.core.db import utcnow
from crm_backend.orders.models import Order, OrderItem, OrderStatus
from crm_backend.products.models import Product
from crm_backend.tickets.models import Ticket, TicketStatus

NOT_REVENUE = (OrderStatus.cancelled, OrderStatus.refunded)
CLOSED_TICKET = (TicketStatus.resolved, TicketStatus.closed)
CENT = Decimal("0.01")
RATE_DIGITS = 4


def period_start(column, granularity: str, dialect: str):
    """The first day (UTC) of the column's day, week (Monday) or month, as a date."""
    if dialect == "postgresql":
        # date_trunc on a timestamptz follows the session's time zone; pin it to UTC.
        return cast(func.date_trunc(granularity, func.timezone("UTC", column)), Date)
    return {"day": func.date(column),
            "week": func.date(column, "weekday 0", "-6 days"),
            "month": func.date(column, "start of month")}[granularity]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def in_range(stmt: Select, column, date_from: date | datetime | None,
             date_to: date | datetime | None) -> Select:
    """A date-time bound is from (inclusive) .. to (exclusive); a date is a whole UTC day, so
    a date range includes both its days."""
    if date_from is not None:
        stmt = stmt.where(column >= (date_from if isinstance(date_from, datetime)
                                     else _midnight(date_from)))
    if date_to is not None:
        stmt = stmt.where(column < (date_to if isinstance(date_to, datetime)
                                    else _midnight(date_to + timedelta(days=1))))
    return stmt


def _money(value) -> Decimal:
    # SQLite sums Numeric columns as floats; two decimals restore the exact amount.
    return Decimal(str(value or 0)).quantize(CENT)


def sales(*, session: Session, granularity: str, group_by: str,
          date_from: date | datetime | None, date_to: date | datetime | None) -> dict:
    period = period_start(Order.placed_at, granularity, session.get_bind().dialect.name)
    if group_by == "category":
        group = Product.category
        stmt = (select(period, group, func.count(func.distinct(Order.id)),
                       func.sum(OrderItem.unit_price * OrderItem.quantity))
                .join(OrderItem, OrderItem.order_id == Order.id)
                .join(Product, Product.id == OrderItem.product_id))
    else:
        group = Order.channel if group_by == "channel" else None
        stmt = select(period, group if group is not None else null(),
                      func.count(Order.id), func.sum(Order.total))
    keys = [period] if group is None else [period, group]
    stmt = in_range(stmt.where(Order.status.not_in(NOT_REVENUE)), Order.placed_at,
                    date_from, date_to).group_by(*keys).order_by(*keys)
    rows = []
    for start, name, orders, revenue in session.execute(stmt):
        revenue = _money(revenue)
        rows.append({"period": date.fromisoformat(str(start)[:10]), "group": name,
                     "orders": orders, "revenue": revenue,
                     "average_order_value": (revenue / orders).quantize(CENT)})
    return {"granularity": granularity, "group_by": group_by, "rows": rows}


def _durations(pairs) -> dict:
    hours = [(end - start).total_seconds() / 3600 for start, end in pairs]
    if not hours:
        return {"count": 0, "median_hours": None, "mean_hours": None}
    return {"count": len(hours), "median_hours": round(statistics.median(hours), 2),
            "mean_hours": round(statistics.fmean(hours), 2)}


def _sla(session: Session, base: Select, done_at, due_at, now: datetime) -> dict:
    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    met, breached, overdue = session.execute(base.with_only_columns(
        total(done_at <= due_at), total(done_at > due_at),
        total(done_at.is_(None) & (due_at < now) & Ticket.status.not_in(CLOSED_TICKET)),
    )).one()
    judged = met + breached + overdue
    return {"met": met, "breached": breached, "open_overdue": overdue,
            "breach_rate": round((breached + overdue) / judged, RATE_DIGITS) if judged else None}


def tickets(*, session: Session, date_from: date | datetime | None,
            date_to: date | datetime | None) -> dict:
    """Tickets created in the range."""
    base = in_range(select(Ticket.id), Ticket.created_at, date_from, date_to)

    def counts(column) -> dict[str, int]:
        return {str(k): n for k, n in session.execute(
            base.with_only_columns(column, func.count()).group_by(column).order_by(column))}

    def durations(done_at) -> dict:
        # Only the two timestamps of the tickets concerned leave the database.
        return _durations(session.execute(base.with_only_columns(Ticket.created_at, done_at)
                                          .where(done_at.is_not(None))))

    by_status = counts(Ticket.status)
    scores = dict(session.execute(base.with_only_columns(Ticket.csat_score, func.count())
                                  .where(Ticket.csat_score.is_not(None))
                                  .group_by(Ticket.csat_score)).all())
    responses = sum(scores.values())
    now = utcnow()
    return {
        "total": sum(by_status.values()), "by_status": by_status,
        "by_priority": counts(Ticket.priority), "by_category": counts(Ticket.category),
        "by_channel": counts(Ticket.channel),
        "first_response": durations(Ticket.first_responded_at),
        "resolution": durations(Ticket.resolved_at),
        "sla_first_response": _sla(session, base, Ticket.first_responded_at,
                                   Ticket.first_response_due_at, now),
        "sla_resolution": _sla(session, base, Ticket.resolved_at, Ticket.resolution_due_at, now),
        "csat": {"responses": responses,
                 "mean": round(sum(k * n for k, n in scores.items()) / responses, 3)
                 if responses else None,
                 "distribution": {str(k): scores.get(k, 0) for k in range(1, 6)}},
    }


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled z-test that two conversion rates are equal."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x1 / n1 - x2 / n2) / se
    # P(|Z| > |z|) for a standard normal Z.
    return round(math.erfc(abs(z) / math.sqrt(2)), 6)


def _ratio(part, whole) -> float | None:
    return part / whole if whole else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, RATE_DIGITS)


def campaign_stats(*, session: Session, campaigns: list[Campaign]) -> list[dict]:
    c = CampaignContact
    treated, control = ~c.is_control, c.is_control

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(c.campaign_id, total(treated), total(control),
               total(treated & c.sent_at.is_not(None)), total(treated & c.opened_at.is_not(None)),
               total(treated & c.clicked_at.is_not(None)),
               total(treated & c.converted_at.is_not(None)),
               total(control & c.converted_at.is_not(None)),
               func.sum(case((treated, c.revenue), else_=0)),
               func.sum(case((control, c.revenue), else_=0)))
        .where(c.campaign_id.in_([campaign.id for campaign in campaigns]))
        .group_by(c.campaign_id))
    stats = {row[0]: row[1:] for row in rows}
    out = []
    for campaign in campaigns:
        n_t, n_c, sent, opened, clicked, conv, conv_c, revenue, revenue_c = stats.get(
            campaign.id, (0,) * 9)
        revenue, revenue_c, cost = _money(revenue), _money(revenue_c), _money(campaign.budget)
        rate, rate_c = _ratio(conv, n_t), _ratio(conv_c, n_c)
        lift = rate - rate_c if rate is not None and rate_c is not None else None
        incremental = (revenue - revenue_c / n_c * n_t).quantize(CENT) if n_t and n_c else None
        out.append({
            "campaign_id": campaign.id, "name": campaign.name, "channel": campaign.channel,
            "treatment": n_t, "control": n_c, "sent": sent, "opened": opened,
            "clicked": clicked, "converted": conv,
            "open_rate": _rounded(_ratio(opened, sent)),
            "click_rate": _rounded(_ratio(clicked, sent)),
            "conversion_rate": _rounded(rate), "control_converted": conv_c,
            "control_conversion_rate": _rounded(rate_c), "absolute_lift": _rounded(lift),
            "relative_lift": _rounded(lift / rate_c) if lift is not None and rate_c else None,
            "p_value": two_proportion_p_value(conv, n_t, conv_c, n_c),
            "revenue": revenue, "control_revenue": revenue_c,
            "incremental_revenue": incremental, "cost": cost,
            "roi": _rounded(float((revenue - cost) / cost)) if cost else None,
            "incremental_roi": _rounded(float((incremental - cost) / cost))
            if cost and incremental is not None else None,
        })
    return out
