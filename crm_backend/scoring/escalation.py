"""Triage of new tickets and the escalation score that orders tickets by what matters most.

escalation_score (0-100) = 100 x (0.35 priority + 0.25 customer value + 0.2 churn risk
+ 0.2 negative sentiment), with priority urgent 1, high 0.7, normal 0.4, low 0.1; customer
value is the percentile of the customer's CLV among all scored customers; sentiment negative
1, neutral 0.3, positive 0 (unknown: 0.3). The SLA enters when sorting: `ranking()` adds 25
points while an SLA deadline has passed unmet, so breached tickets rise above their peers.
"""

import numpy as np
from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.customers.models import CustomerScore
from crm_backend.scoring import service
from crm_backend.scoring.models import ModelName
from crm_backend.tickets.models import Priority, Ticket, TicketStatus

PRIORITY_WEIGHT = {"urgent": 1.0, "high": 0.7, "normal": 0.4, "low": 0.1}
SENTIMENT_WEIGHT = {"negative": 1.0, "neutral": 0.3, "positive": 0.0}
WEIGHTS = {"priority": 0.35, "value": 0.25, "churn": 0.2, "sentiment": 0.2}
SLA_BREACH_POINTS = 25.0


def score(*, priority: str, value_percentile: float | None, churn_risk: float | None,
          sentiment: str | None) -> float:
    parts = (WEIGHTS["priority"] * PRIORITY_WEIGHT.get(str(priority), 0.4)
             + WEIGHTS["value"] * (value_percentile if value_percentile is not None else 0.5)
             + WEIGHTS["churn"] * (churn_risk if churn_risk is not None else 0.5)
             + WEIGHTS["sentiment"] * SENTIMENT_WEIGHT.get(sentiment or "", 0.3))
    return round(100 * parts, 2)


def ranking():
    """SQL sort key for tickets: the stored score, plus points while an SLA is breached."""
    now = func.current_timestamp()
    breached = and_(Ticket.status.not_in([TicketStatus.resolved, TicketStatus.closed]),
                    or_(and_(Ticket.first_responded_at.is_(None),
                             Ticket.first_response_due_at < now),
                        Ticket.resolution_due_at < now))
    return func.coalesce(Ticket.escalation_score, 0.0) + case((breached, SLA_BREACH_POINTS),
                                                              else_=0.0)


def customer_signals(session: Session, customer_id: int | None) -> tuple[float | None,
                                                                          float | None]:
    """(CLV percentile, churn risk) of a customer from the stored scores."""
    if customer_id is None:
        return None, None
    stored = dict(session.execute(select(CustomerScore.name, CustomerScore.value).where(
        CustomerScore.customer_id == customer_id,
        CustomerScore.name.in_(["clv", "churn_risk"]))).all())
    percentile = None
    if stored.get("clv") is not None:
        below, total = session.execute(select(
            func.sum(case((CustomerScore.value < stored["clv"], 1), else_=0)), func.count())
            .where(CustomerScore.name == "clv")).one()
        percentile = (below or 0) / total if total else None
    return percentile, stored.get("churn_risk")


def triage_new_ticket(*, session: Session, data: dict, text: str) -> bool:
    """Fill in what the caller left to the CRM: the category (if none or "general"), the
    priority (if None); always the sentiment and the escalation score. Without a trained
    triage model the category stays, the priority is normal and the sentiment unknown.

    Returns whether the ticket goes straight to the escalation queue: a complaint from a
    customer whose CLV percentile reaches `high_value_percentile`; its priority is raised to
    at least high before the score is computed."""
    model, _ = service.load(session=session, name=ModelName.triage)
    predicted = model.predict([text]) if model is not None else {}
    if data.get("category") in (None, "general") and "category" in predicted:
        data["category"] = predicted["category"][0]
    data.setdefault("category", "general")
    if data.get("priority") is None:
        data["priority"] = Priority(predicted["priority"][0]) if "priority" in predicted \
            else Priority.normal
    data["sentiment"] = predicted["sentiment"][0] if "sentiment" in predicted else None
    value, churn = customer_signals(session, data.get("customer_id"))
    high_value_complaint = (data["category"] == "complaint" and value is not None
                            and value >= get_settings().high_value_percentile)
    if high_value_complaint and PRIORITY_WEIGHT[data["priority"]] < PRIORITY_WEIGHT["high"]:
        data["priority"] = Priority.high
    data["escalation_score"] = score(priority=data["priority"], value_percentile=value,
                                     churn_risk=churn, sentiment=data["sentiment"])
    return high_value_complaint


def refresh_open_tickets(*, session: Session) -> int:
    """Recompute the escalation score of every open ticket from the latest customer scores."""
    open_tickets = session.execute(
        select(Ticket.id, Ticket.priority, Ticket.sentiment, Ticket.customer_id)
        .where(Ticket.status.not_in([TicketStatus.resolved, TicketStatus.closed]))).all()
    if not open_tickets:
        return 0
    all_clv = np.sort(np.fromiter(session.scalars(
        select(CustomerScore.value).where(CustomerScore.name == "clv",
                                          CustomerScore.value.is_not(None))), float))
    customers = {t.customer_id for t in open_tickets if t.customer_id is not None}
    stored: dict[tuple[int, str], float] = {}
    ids = sorted(customers)
    for start in range(0, len(ids), 10_000):
        for cid, name, value in session.execute(
                select(CustomerScore.customer_id, CustomerScore.name, CustomerScore.value)
                .where(CustomerScore.customer_id.in_(ids[start:start + 10_000]),
                       CustomerScore.name.in_(["clv", "churn_risk"]))):
            stored[(cid, name)] = value
    updates = []
    for tid, priority, sentiment, cid in open_tickets:
        clv = stored.get((cid, "clv"))
        percentile = (float(np.searchsorted(all_clv, clv)) / len(all_clv)
                      if clv is not None and len(all_clv) else None)
        updates.append({"tid": tid, "score": score(
            priority=priority, value_percentile=percentile,
            churn_risk=stored.get((cid, "churn_risk")), sentiment=sentiment)})
    table = Ticket.__table__
    session.connection().execute(update(table).where(table.c.id == bindparam("tid"))
                                 .values(escalation_score=bindparam("score")), updates)
    return len(updates)
