import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist

import pytest
from sqlalchemy import text

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order, OrderItem
from crm_backend.products.models import Product
from crm_backend.reports import service
from crm_backend.reports.service import two_proportion_p_value
from crm_backend.tickets.models import Ticket

SALES = "/api/v1/reports/sales"
# Wednesday 2026-03-04, noon UTC.
WED = datetime(2026, 3, 4, 12, tzinfo=UTC)


@pytest.fixture
def shop(session):
    """Five counted orders in March and April 2026, and a cancelled and a refunded one."""
    cust = Customer(name="R", email="r@example.com", custom_attributes={})
    audio = Product(sku="A", name="Headphones", category="audio", price=Decimal("100"))
    coffee = Product(sku="C", name="Beans", category="coffee", price=Decimal("10"))
    session.add_all([cust, audio, coffee])
    session.flush()

    def order(when, channel, status, lines, shipping="0"):
        items = [OrderItem(product_id=p.id, quantity=q, unit_price=p.price) for p, q in lines]
        sub = sum((i.unit_price * i.quantity for i in items), Decimal(0))
        session.add(Order(customer_id=cust.id, channel=channel, status=status, items=items,
                          subtotal=sub, shipping_cost=Decimal(shipping),
                          total=sub + Decimal(shipping), placed_at=when))

    order(WED, "web", "delivered", [(audio, 1), (coffee, 2)], shipping="5")   # 125
    order(WED + timedelta(hours=1), "mobile", "paid", [(coffee, 1)])          # 10
    sunday_night = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)                   # week of 2 March
    order(sunday_night, "web", "shipped", [(coffee, 3)])                      # 30
    monday = datetime(2026, 3, 9, 12, tzinfo=UTC)
    order(monday, "web", "delivered", [(audio, 2)])                           # 200
    order(monday, "web", "cancelled", [(audio, 1)])                           # not counted
    order(monday, "web", "refunded", [(coffee, 3)])                           # not counted
    order(datetime(2026, 4, 1, 0, 10, tzinfo=UTC), "marketplace", "pending",
          [(audio, 1)])                                                       # 100
    session.commit()


def _rows(client, *fields, **params):
    resp = client.get(SALES, params=params)
    assert resp.status_code == 200, resp.text
    return [tuple(r[f] for f in fields) for r in resp.json()["rows"]]


def test_sales_by_day_week_and_month(analyst, shop):
    cols = ("period", "group", "orders", "revenue", "average_order_value")
    assert _rows(analyst, *cols, granularity="day") == [
        ("2026-03-04", None, 2, "135.00", "67.50"), ("2026-03-08", None, 1, "30.00", "30.00"),
        ("2026-03-09", None, 1, "200.00", "200.00"), ("2026-04-01", None, 1, "100.00", "100.00")]
    assert _rows(analyst, *cols, granularity="week") == [
        ("2026-03-02", None, 3, "165.00", "55.00"), ("2026-03-09", None, 1, "200.00", "200.00"),
        ("2026-03-30", None, 1, "100.00", "100.00")]
    assert _rows(analyst, *cols, granularity="month") == [
        ("2026-03-01", None, 4, "365.00", "91.25"), ("2026-04-01", None, 1, "100.00", "100.00")]
    assert analyst.get(SALES).json()["granularity"] == "day"


def test_sales_by_channel_and_category(analyst, shop):
    cols = ("period", "group", "orders", "revenue", "average_order_value")
    assert _rows(analyst, *cols, granularity="month", group_by="channel") == [
        ("2026-03-01", "mobile", 1, "10.00", "10.00"), ("2026-03-01", "web", 3, "355.00",
                                                        "118.33"),
        ("2026-04-01", "marketplace", 1, "100.00", "100.00")]
    # Item value only (no shipping); an order counts in each category it contains.
    assert _rows(analyst, *cols, granularity="month", group_by="category") == [
        ("2026-03-01", "audio", 2, "300.00", "150.00"), ("2026-03-01", "coffee", 3, "60.00",
                                                         "20.00"),
        ("2026-04-01", "audio", 1, "100.00", "100.00")]


def test_sales_date_range(analyst, shop):
    # Date-times: from inclusive, to exclusive, in any time zone.
    assert _rows(analyst, "period", date_from="2026-03-05T00:00:00Z",
                 date_to="2026-03-09T12:00:00Z") == [("2026-03-08",)]
    assert _rows(analyst, "period", date_from="2026-03-09T00:30:00+01:00") == [
        ("2026-03-08",), ("2026-03-09",), ("2026-04-01",)]
    # Dates: whole UTC days, both included.
    assert _rows(analyst, "period", date_from="2026-03-08", date_to="2026-03-09") == [
        ("2026-03-08",), ("2026-03-09",)]
    assert _rows(analyst, "period", date_to="2026-03-31", granularity="month") == [
        ("2026-03-01",)]
    for bad in ({"date_from": "2026-03-08T10:00:00"}, {"granularity": "year"},
                {"group_by": "customer"}, {"date_to": "soon"}):
        assert analyst.get(SALES, params=bad).status_code == 422, bad


def test_sales_buckets_by_utc_whatever_the_session_time_zone(session, shop):
    if session.get_bind().dialect.name == "postgresql":
        # 23:30 UTC on Sunday is Monday in Auckland; 00:10 UTC on 1 April is March in New York.
        session.execute(text("SET LOCAL TIME ZONE 'Pacific/Auckland'"))
    weeks = service.sales(session=session, granularity="week", group_by="none",
                          date_from=None, date_to=None)["rows"]
    assert [(str(r["period"]), r["orders"]) for r in weeks] == [
        ("2026-03-02", 3), ("2026-03-09", 1), ("2026-03-30", 1)]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
    months = service.sales(session=session, granularity="month", group_by="none",
                           date_from=None, date_to=None)["rows"]
    assert [(str(r["period"]), r["orders"]) for r in months] == [
        ("2026-03-01", 4), ("2026-04-01", 1)]
    session.rollback()


@pytest.fixture
def tickets(session):
    """Five tickets in March 2026 (SLA dues 2 h / 10 h after creation) and one in May."""
    def ticket(priority, channel, category, status, responded_h=None, resolved_h=None,
               csat=None, created=WED, sla=True, resolution_due=None):
        session.add(Ticket(
            channel=channel, subject="s", category=category, priority=priority, status=status,
            created_at=created, updated_at=created,
            first_response_due_at=created + timedelta(hours=2) if sla else None,
            resolution_due_at=resolution_due or (created + timedelta(hours=10) if sla else None),
            first_responded_at=created + timedelta(hours=responded_h) if responded_h else None,
            resolved_at=created + timedelta(hours=resolved_h) if resolved_h else None,
            csat_score=csat))

    ticket("high", "chat", "billing", "resolved", 1, 5, csat=5)           # both met
    ticket("normal", "email", "general", "closed", 3, 12, csat=3)         # both breached
    ticket("normal", "chat", "general", "open")                           # both overdue
    ticket("low", "web", "general", "pending", 0.5,                       # response met,
           resolution_due=datetime.now(UTC) + timedelta(days=10))         # resolution not due
    ticket("urgent", "chat", "billing", "resolved", 5.5, 7, csat=1, sla=False)  # no SLA
    ticket("normal", "web", "general", "new", created=datetime(2026, 5, 1, tzinfo=UTC))
    session.commit()


def test_ticket_report(analyst, tickets):
    r = analyst.get("/api/v1/reports/tickets", params={"date_to": "2026-04-01"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "total": 5,
        "by_status": {"closed": 1, "open": 1, "pending": 1, "resolved": 2},
        "by_priority": {"high": 1, "low": 1, "normal": 2, "urgent": 1},
        "by_category": {"billing": 2, "general": 3},
        "by_channel": {"chat": 3, "email": 1, "web": 1},
        # 0.5, 1, 3 and 5.5 hours; 5, 7 and 12 hours.
        "first_response": {"count": 4, "median_hours": 2.0, "mean_hours": 2.5},
        "resolution": {"count": 3, "median_hours": 7.0, "mean_hours": 8.0},
        "sla_first_response": {"met": 2, "breached": 1, "open_overdue": 1, "breach_rate": 0.5},
        "sla_resolution": {"met": 1, "breached": 1, "open_overdue": 1,
                           "breach_rate": round(2 / 3, 4)},
        "csat": {"responses": 3, "mean": 3.0,
                 "distribution": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}},
    }
    everything = analyst.get("/api/v1/reports/tickets").json()
    assert everything["total"] == 6 and everything["by_status"]["new"] == 1
    assert everything["sla_first_response"]["open_overdue"] == 2
    may = analyst.get("/api/v1/reports/tickets", params={"date_from": "2026-05-01"}).json()
    assert may["total"] == 1 and may["first_response"] == {
        "count": 0, "median_hours": None, "mean_hours": None}
    assert may["csat"] == {"responses": 0, "mean": None,
                           "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}


@pytest.fixture
def campaigns(session):
    """"Lift": 20 treated (20 sent, 10 opened, 5 clicked, 4 converted at 50.00) and 10 control
    (1 converted at 50.00), budget 100. "Quiet": no contacts and no budget."""
    lift = Campaign(name="Lift", channel="email", starts_at=WED, budget=Decimal("100"),
                    audience={})
    quiet = Campaign(name="Quiet", channel="web", starts_at=WED + timedelta(days=1),
                     audience={})
    customers = [Customer(name=f"c{i}", email=f"c{i}@x.example", custom_attributes={})
                 for i in range(30)]
    session.add_all([lift, quiet, *customers])
    session.flush()
    for i, c in enumerate(customers):
        control = i >= 20
        converted = (not control and i < 4) or i == 20
        session.add(CampaignContact(
            campaign_id=lift.id, customer_id=c.id, is_control=control,
            sent_at=None if control else WED,
            opened_at=WED if i < 10 else None,
            clicked_at=WED if i < 5 else None,
            converted_at=WED if converted else None,
            revenue=Decimal("50") if converted else Decimal("0")))
    session.commit()
    return lift.id, quiet.id


def test_campaign_report_lift_and_roi(analyst, campaigns):
    lift_id, quiet_id = campaigns
    r = analyst.get(f"/api/v1/reports/campaigns/{lift_id}")
    assert r.status_code == 200, r.text
    # Pooled rate 5/30; se = sqrt(1/6 * 5/6 * (1/20 + 1/10)); z = 0.1 / se = 0.69282.
    z = 0.1 / math.sqrt(1 / 6 * 5 / 6 * (1 / 20 + 1 / 10))
    assert r.json() == {
        "campaign_id": lift_id, "name": "Lift", "channel": "email",
        "treatment": 20, "control": 10, "sent": 20, "opened": 10, "clicked": 5, "converted": 4,
        "open_rate": 0.5, "click_rate": 0.25, "conversion_rate": 0.2,
        "control_converted": 1, "control_conversion_rate": 0.1,
        "absolute_lift": 0.1, "relative_lift": 1.0,
        "p_value": round(2 * (1 - NormalDist().cdf(z)), 6),
        "revenue": "200.00", "control_revenue": "50.00",
        "incremental_revenue": "100.00",  # 200 - 50 / 10 * 20
        "cost": "100.00",
        "roi": 1.0,  # (200 - 100) / 100
        "incremental_roi": 0.0,  # (100 - 100) / 100
    }
    assert r.json()["p_value"] == 0.488422

    quiet = analyst.get(f"/api/v1/reports/campaigns/{quiet_id}").json()
    assert (quiet["treatment"], quiet["sent"], quiet["revenue"], quiet["cost"]) == (
        0, 0, "0.00", "0.00")
    undefined = ("open_rate", "click_rate", "conversion_rate", "control_conversion_rate",
                 "absolute_lift", "relative_lift", "p_value", "incremental_revenue", "roi",
                 "incremental_roi")
    assert [quiet[k] for k in undefined] == [None] * len(undefined)
    assert analyst.get("/api/v1/reports/campaigns/999999").status_code == 404


def test_campaign_report_list_is_paginated(analyst, campaigns):
    lift_id, quiet_id = campaigns
    first = analyst.get("/api/v1/reports/campaigns", params={"page_size": 1}).json()
    assert first["total"] == 2 and first["page_size"] == 1
    assert [c["campaign_id"] for c in first["items"]] == [quiet_id]  # latest start first
    second = analyst.get("/api/v1/reports/campaigns",
                         params={"page_size": 1, "page": 2}).json()["items"]
    assert [(c["campaign_id"], c["converted"], c["roi"]) for c in second] == [(lift_id, 4, 1.0)]
    by_name = analyst.get("/api/v1/reports/campaigns", params={"sort": "name"}).json()
    assert [c["name"] for c in by_name["items"]] == ["Lift", "Quiet"]


def test_p_value_matches_the_normal_distribution():
    # 200/1000 vs 150/1000: pooled 0.175, z = 2.9424, two-sided p = 0.003256.
    assert two_proportion_p_value(200, 1000, 150, 1000) == pytest.approx(0.003256, abs=1e-6)
    assert two_proportion_p_value(50, 100, 50, 100) == 1.0
    assert two_proportion_p_value(1, 10, 0, 0) is None
    assert two_proportion_p_value(0, 10, 0, 10) is None


def test_reports_need_the_permission(agent, manager, anon):
    for path in ("sales", "tickets", "campaigns"):
        assert agent.get(f"/api/v1/reports/{path}").status_code == 403
        assert manager.get(f"/api/v1/reports/{path}").status_code == 200
        assert anon.get(f"/api/v1/reports/{path}").status_code == 401
