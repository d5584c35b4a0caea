"""Customer features, computed set-based in SQL as of a point in time.

One statement aggregates orders, tickets, campaign contacts and conversations per customer
(GROUP BY in the database, never a Python loop over customers) and joins the aggregates to
the customers; pandas then derives ratios and day counts column-wise. Only events before
`as_of` are used, and orders count as cancelled, refunded or returned only if that happened
before `as_of` too, so features for a past date see exactly what was known then: models are
trained on past snapshots and labelled with what happened after, without leakage.
"""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.conversations.models import Conversation
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order
from crm_backend.tickets.models import Ticket

DAY = 86400.0

# The columns models use; the frame carries a few more (epochs, counts for BG/NBD).
FEATURES = [
    "recency_days", "frequency", "monetary", "tenure_days", "aov", "return_rate",
    "orders_90d", "spend_90d", "orders_365d", "tickets", "complaints", "tickets_90d",
    "csat_mean", "csat_responses", "campaigns", "campaign_open_rate", "campaign_click_rate",
    "campaign_conversions", "campaign_response_rate", "conversations",
    "days_since_last_contact", "marketing_consent", "order_gap_days", "recency_gap_ratio",
]
RFM = ["recency_days", "frequency", "monetary"]


def epoch(column, dialect: str):
    """Seconds since 1970 of a UTC timestamp column, as a float, on either backend."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    # SQLite keeps naive UTC text; julianday reads it.
    return (func.julianday(column) - 2440587.5) * DAY


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _before(column, as_of: datetime):
    return and_(column.is_not(None), column < as_of)


def feature_query(as_of: datetime, dialect: str, customers: Select | None = None,
                  window_days: int = 90) -> Select:
    """The SELECT behind `compute`: one row per customer who existed at `as_of`."""
    o = Order
    counted = and_(o.placed_at < as_of, or_(o.cancelled_at.is_(None), o.cancelled_at >= as_of))
    kept = or_(o.refunded_at.is_(None), o.refunded_at >= as_of)
    d90, d365 = as_of - timedelta(days=90), as_of - timedelta(days=365)
    window = as_of - timedelta(days=window_days)
    orders = (
        select(o.customer_id.label("cid"),
               _count(counted).label("frequency"),
               cast(func.sum(case((and_(counted, kept), o.total), else_=0)), Float)
               .label("monetary"),
               _count(and_(counted, _before(o.return_requested_at, as_of))).label("returns"),
               _count(and_(counted, o.placed_at >= d90)).label("orders_90d"),
               cast(func.sum(case((and_(counted, kept, o.placed_at >= d90), o.total), else_=0)),
                    Float).label("spend_90d"),
               _count(and_(counted, o.placed_at >= d365)).label("orders_365d"),
               _count(and_(counted, o.placed_at >= window)).label("window_orders"),
               cast(func.sum(case((and_(counted, kept, o.placed_at >= window), o.total),
                                  else_=0)), Float).label("window_spend"),
               func.max(case((counted, epoch(o.placed_at, dialect)))).label("last_order"),
               func.min(case((counted, epoch(o.placed_at, dialect)))).label("first_order"))
        .where(o.placed_at < as_of)
        .group_by(o.customer_id))
    t = Ticket
    tickets = (
        select(t.customer_id.label("cid"), func.count().label("tickets"),
               _count(t.category == "complaint").label("complaints"),
               _count(t.created_at >= d90).label("tickets_90d"),
               cast(func.avg(case((_before(t.resolved_at, as_of), t.csat_score))), Float)
               .label("csat_mean"),
               _count(and_(_before(t.resolved_at, as_of), t.csat_score.is_not(None)))
               .label("csat_responses"),
               func.max(epoch(t.created_at, dialect)).label("last_ticket"))
        .where(t.created_at < as_of, t.customer_id.is_not(None))
        .group_by(t.customer_id))
    c = CampaignContact
    treated = c.is_control.is_(False)
    contacts = (
        select(c.customer_id.label("cid"), _count(treated).label("campaigns"),
               _count(and_(treated, _before(c.opened_at, as_of))).label("opened"),
               _count(and_(treated, _before(c.clicked_at, as_of))).label("clicked"),
               _count(and_(treated, _before(c.converted_at, as_of)))
               .label("campaign_conversions"))
        .join(Campaign, Campaign.id == c.campaign_id)
        .where(Campaign.starts_at < as_of)
        .group_by(c.customer_id))
    v = Conversation
    conversations = (
        select(v.customer_id.label("cid"), func.count().label("conversations"),
               func.max(epoch(func.coalesce(v.identified_at, v.created_at), dialect))
               .label("last_conversation"))
        .where(v.created_at < as_of, v.customer_id.is_not(None))
        .group_by(v.customer_id))
    if customers is not None:
        # Aggregate only the selected customers' rows, not the whole history.
        orders = orders.where(o.customer_id.in_(customers))
        tickets = tickets.where(t.customer_id.in_(customers))
        contacts = contacts.where(c.customer_id.in_(customers))
        conversations = conversations.where(v.customer_id.in_(customers))
    orders, tickets, contacts, conversations = (
        q.subquery(name) for q, name in ((orders, "o"), (tickets, "t"), (contacts, "c"),
                                         (conversations, "v")))

    def zero(col):
        return func.coalesce(col, 0)

    stmt = (
        select(Customer.id.label("customer_id"),
               epoch(Customer.created_at, dialect).label("created"),
               Customer.marketing_consent.label("marketing_consent"),
               zero(orders.c.frequency).label("frequency"),
               zero(orders.c.monetary).label("monetary"),
               zero(orders.c.returns).label("returns"),
               zero(orders.c.orders_90d).label("orders_90d"),
               zero(orders.c.spend_90d).label("spend_90d"),
               zero(orders.c.orders_365d).label("orders_365d"),
               zero(orders.c.window_orders).label("window_orders"),
               zero(orders.c.window_spend).label("window_spend"),
               orders.c.last_order, orders.c.first_order,
               zero(tickets.c.tickets).label("tickets"),
               zero(tickets.c.complaints).label("complaints"),
               zero(tickets.c.tickets_90d).label("tickets_90d"),
               tickets.c.csat_mean,
               zero(tickets.c.csat_responses).label("csat_responses"),
               tickets.c.last_ticket,
               zero(contacts.c.campaigns).label("campaigns"),
               zero(contacts.c.opened).label("opened"),
               zero(contacts.c.clicked).label("clicked"),
               zero(contacts.c.campaign_conversions).label("campaign_conversions"),
               zero(conversations.c.conversations).label("conversations"),
               conversations.c.last_conversation)
        .select_from(Customer)
        .outerjoin(orders, orders.c.cid == Customer.id)
        .outerjoin(tickets, tickets.c.cid == Customer.id)
        .outerjoin(contacts, contacts.c.cid == Customer.id)
        .outerjoin(conversations, conversations.c.cid == Customer.id)
        .where(Customer.created_at < as_of, Customer.erased_at.is_(None)))
    if customers is not None:
        stmt = stmt.where(Customer.id.in_(customers))
    return stmt.order_by(literal_column("customer_id"))


def compute(session: Session, as_of: datetime, customers: Select | None = None,
            window_days: int = 90) -> pd.DataFrame:
    """Features of every customer (or those `customers` selects) as of `as_of`, indexed by id;
    `window_orders` and `window_spend` cover the last `window_days` (labels for earlier
    snapshots, see `outcome`)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Joining whole-table aggregates is a job for hash joins. Without fresh statistics
        # (just after a load) the planner may pick nested loops that re-scan an aggregate per
        # customer: minutes instead of seconds.
        session.execute(text("SET LOCAL enable_nestloop = off"))
    result = session.execute(feature_query(as_of, dialect, customers, window_days))
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if dialect == "postgresql":
        session.execute(text("SET LOCAL enable_nestloop = on"))
    return derive(frame.set_index("customer_id"), as_of.timestamp())


def derive(raw: pd.DataFrame, now: float) -> pd.DataFrame:
    """Day counts and ratios, column-wise."""
    f = raw.astype({c: float for c in raw.columns if c != "marketing_consent"})
    f["marketing_consent"] = raw["marketing_consent"].astype(float)
    f["tenure_days"] = (now - f["created"]) / DAY
    f["recency_days"] = ((now - f["last_order"]) / DAY).fillna(f["tenure_days"])
    freq = f["frequency"].replace(0, np.nan)
    f["aov"] = (f["monetary"] / freq).fillna(0.0)
    f["return_rate"] = (f["returns"] / freq).fillna(0.0)
    campaigns = f["campaigns"].replace(0, np.nan)
    f["campaign_open_rate"] = (f["opened"] / campaigns).fillna(0.0)
    f["campaign_click_rate"] = (f["clicked"] / campaigns).fillna(0.0)
    f["campaign_response_rate"] = (f["campaign_conversions"] / campaigns).fillna(0.0)
    last_contact = f[["last_ticket", "last_conversation"]].max(axis=1)
    # Recency against the customer's own rhythm: a regular buyer overdue by weeks is a churn
    # signal that recency alone cannot show.
    gap = (f["last_order"] - f["first_order"]) / DAY / (f["frequency"] - 1).where(
        f["frequency"] > 1)
    f["order_gap_days"] = gap.fillna(f["tenure_days"])
    f["recency_gap_ratio"] = f["recency_days"] / (f["order_gap_days"] + 1.0)
    f["days_since_last_contact"] = ((now - last_contact) / DAY).fillna(f["tenure_days"])
    # Weeks, for BG/NBD: repeat purchases x, first-to-last purchase t_x, age since first T.
    f["bg_x"] = (f["frequency"] - 1).clip(lower=0)
    f["bg_t_x"] = ((f["last_order"] - f["first_order"]) / (7 * DAY)).fillna(0.0)
    f["bg_T"] = ((now - f["first_order"]) / (7 * DAY)).fillna(0.0)
    return f


def outcome(later: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """What customers `ids` did in the window before a later snapshot (orders and value
    placed in [later - window, later), not cancelled before `later`): the labels of an
    earlier snapshot, read from the later one instead of another pass over the orders."""
    return later[["window_orders", "window_spend"]].reindex(ids).fillna(0.0).rename(
        columns={"window_orders": "orders", "window_spend": "value"})
