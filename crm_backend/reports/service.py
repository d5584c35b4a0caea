"""Sales, ticket and campaign figures, computed in SQL (aggregates) on SQLite and PostgreSQL."""

import math
import statistics
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Date, case, cast, func, select
from sqlalchemy.orm import Session

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.core.db import utcnow
from crm_backend.orders.models import Order, OrderItem, OrderStatus
from crm_backend.products.models import Product
from crm_backend.tickets.models import Ticket, TicketStatus

NOT_REVENUE = (OrderStatus.cancelled, OrderStatus.refunded)
CENT = Decimal("0.01")


def period_start(column, granularity: str, dialect: str):
    """The first day of the column's day, ISO week (Monday) or month, as a date."""
    if dialect == "postgresql":
        return cast(func.date_trunc(granularity, column), Date)
    return {"day": func.date(column),
            "week": func.date(column, "weekday 0", "-6 days"),
            "month": func.date(column, "start of month")}[granularity]


def _date_range(stmt, column, date_from: datetime | None, date_to: datetime | None):
    if date_from:
        stmt = stmt.where(column >= date_from)
    if date_to:
        stmt = stmt.where(column < date_to)
    return stmt


def sales(*, session: Session, granularity: str, group_by: str,
          date_from: datetime | None, date_to: datetime | None) -> dict:
    period = period_start(Order.placed_at, granularity, session.bind.dialect.name).label("p")
    if group_by == "category":
        group = Product.category
        revenue = func.sum(OrderItem.unit_price * OrderItem.quantity)
        stmt = (select(period, group, func.count(func.distinct(Order.id)), revenue)
                .join(OrderItem, OrderItem.order_id == Order.id)
                .join(Product, Product.id == OrderItem.product_id))
    else:
        group = Order.channel if group_by == "channel" else None
        cols = [period] + ([group] if group is not None else [])
        stmt = select(*cols, func.count(Order.id), func.sum(Order.total))
    stmt = _date_range(stmt.where(Order.status.not_in(NOT_REVENUE)), Order.placed_at,
                       date_from, date_to)
    keys = [period] + ([group] if group is not None else [])
    stmt = stmt.group_by(*keys).order_by(*keys)
    rows = []
    for row in session.execute(stmt):
        if group is None:
            p, orders, revenue_value = row
            g = None
        else:
            p, g, orders, revenue_value = row
        revenue_value = Decimal(revenue_value or 0).quantize(CENT)
        rows.append({"period": str(p)[:10], "group": g, "orders": orders,
                     "revenue": revenue_value,
                     "average_order_value": (revenue_value / orders).quantize(CENT)
                     if orders else Decimal("0.00")})
    return {"granularity": granularity, "group_by": group_by, "rows": rows}


def _durations(pairs) -> dict:
    hours = [(end - start).total_seconds() / 3600 for start, end in pairs]
    return {"count": len(hours),
            "median_hours": round(statistics.median(hours), 2) if hours else None,
            "mean_hours": round(statistics.fmean(hours), 2) if hours else None}


def _sla(session: Session, base, done_at, due_at, now) -> dict:
    met = func.sum(case((done_at <= due_at, 1), else_=0))
    breached = func.sum(case((done_at > due_at, 1), else_=0))
    overdue = func.sum(case(((done_at.is_(None)) & (due_at < now)
                             & Ticket.status.not_in((TicketStatus.resolved,
                                                     TicketStatus.closed)), 1), else_=0))
    m, b, o = session.execute(base.with_only_columns(met, breached, overdue)).one()
    m, b, o = m or 0, b or 0, o or 0
    decided = m + b + o
    return {"met": m, "breached": b, "open_overdue": o,
            "breach_rate": round((b + o) / decided, 4) if decided else None}


def tickets(*, session: Session, date_from: datetime | None, date_to: datetime | None) -> dict:
    base = _date_range(select(Ticket.id), Ticket.created_at, date_from, date_to)
    now = utcnow()

    def counts(column) -> dict[str, int]:
        rows = session.execute(base.with_only_columns(column, func.count())
                               .group_by(column).order_by(column))
        return {str(k): v for k, v in rows}

    by_status = counts(Ticket.status)
    first = session.execute(base.with_only_columns(Ticket.created_at, Ticket.first_responded_at)
                            .where(Ticket.first_responded_at.is_not(None))).all()
    resolved = session.execute(base.with_only_columns(Ticket.created_at, Ticket.resolved_at)
                               .where(Ticket.resolved_at.is_not(None))).all()
    scores = dict(session.execute(base.with_only_columns(Ticket.csat_score, func.count())
                                  .where(Ticket.csat_score.is_not(None))
                                  .group_by(Ticket.csat_score)).all())
    responses = sum(scores.values())
    return {
        "total": sum(by_status.values()), "by_status": by_status,
        "by_priority": counts(Ticket.priority), "by_category": counts(Ticket.category),
        "by_channel": counts(Ticket.channel),
        "first_response": _durations(first), "resolution": _durations(resolved),
        "sla_first_response": _sla(session, base, Ticket.first_responded_at,
                                   Ticket.first_response_due_at, now),
        "sla_resolution": _sla(session, base, Ticket.resolved_at, Ticket.resolution_due_at, now),
        "csat": {"responses": responses,
                 "mean": round(sum(k * v for k, v in scores.items()) / responses, 3)
                 if responses else None,
                 "distribution": {str(k): scores.get(k, 0) for k in range(1, 6)}},
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of a z-test that two conversion rates are equal."""
    if not n1 or not n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x1 / n1 - x2 / n2) / se
    return round(math.erfc(abs(z) / math.sqrt(2)), 6)


def campaign_stats(*, session: Session, campaigns: list[Campaign]) -> list[dict]:
    if not campaigns:
        return []
    c = CampaignContact
    treated = ~c.is_control

    def total(cond):
        return func.sum(case((cond, 1), else_=0))

    rows = session.execute(
        select(c.campaign_id, total(treated), total(c.is_control),
               total(treated & c.sent_at.is_not(None)), total(treated & c.opened_at.is_not(None)),
               total(treated & c.clicked_at.is_not(None)),
               total(treated & c.converted_at.is_not(None)),
               total(c.is_control & c.converted_at.is_not(None)),
               func.sum(case((treated, c.revenue), else_=0)),
               func.sum(case((c.is_control, c.revenue), else_=0)))
        .where(c.campaign_id.in_([x.id for x in campaigns])).group_by(c.campaign_id))
    stats = {r[0]: r[1:] for r in rows}
    out = []
    for campaign in campaigns:
        t, k, sent, opened, clicked, conv, kconv, rev, krev = stats.get(
            campaign.id, (0,) * 9)
        rev, krev = Decimal(rev or 0).quantize(CENT), Decimal(krev or 0).quantize(CENT)
        rate, krate = _rate(conv, t), _rate(kconv, k)
        lift = round(rate - krate, 4) if rate is not None and krate is not None else None
        incremental = (rev - krev / k * t).quantize(CENT) if t and k else None
        cost = Decimal(campaign.budget).quantize(CENT)
        gain = incremental if incremental is not None else rev
        out.append({
            "campaign_id": campaign.id, "name": campaign.name, "channel": campaign.channel,
            "treatment": t, "control": k, "sent": sent, "opened": opened, "clicked": clicked,
            "converted": conv, "open_rate": _rate(opened, sent), "click_rate": _rate(clicked, sent),
            "conversion_rate": rate, "control_converted": kconv, "control_conversion_rate": krate,
            "absolute_lift": lift,
            "relative_lift": round(lift / krate, 4) if lift is not None and krate else None,
            "p_value": two_proportion_p_value(conv, t, kconv, k),
            "revenue": rev, "control_revenue": krev, "incremental_revenue": incremental,
            "cost": cost, "roi": round(float((gain - cost) / cost), 4) if cost else None,
        })
    return out
