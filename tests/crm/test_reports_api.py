from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order, OrderItem
from crm_backend.products.models import Product
from crm_backend.reports.service import two_proportion_p_value
from crm_backend.tickets.models import Ticket

# Wednesday 2026-03-04 and Monday 2026-03-09, noon UTC.
WED = datetime(2026, 3, 4, 12, tzinfo=UTC)
MON = datetime(2026, 3, 9, 12, tzinfo=UTC)


@pytest.fixture
def shop(session):
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
    order(MON, "web", "delivered", [(audio, 2)])                              # 200
    order(MON, "web", "cancelled", [(audio, 1)])                              # not counted
    order(MON, "web", "refunded", [(coffee, 3)])                              # not counted
    session.commit()


def test_sales_by_day_week_month(analyst, shop):
    day = analyst.get("/api/v1/reports/sales", params={"granularity": "day"}).json()["rows"]
    assert [(r["period"], r["orders"], r["revenue"]) for r in day] == [
        ("2026-03-04", 2, "135.00"), ("2026-03-09", 1, "200.00")]
    week = analyst.get("/api/v1/reports/sales", params={"granularity": "week"}).json()["rows"]
    assert [(r["period"], r["revenue"], r["average_order_value"]) for r in week] == [
        ("2026-03-02", "135.00", "67.50"), ("2026-03-09", "200.00", "200.00")]
    month = analyst.get("/api/v1/reports/sales", params={"granularity": "month"}).json()["rows"]
    assert [(r["period"], r["orders"], r["revenue"]) for r in month] == [
        ("2026-03-01", 3, "335.00")]


def test_sales_by_channel_and_category(analyst, shop):
    rows = analyst.get("/api/v1/reports/sales", params={"granularity": "month",
                                                        "group_by": "channel"}).json()["rows"]
    assert {(r["group"], r["orders"], r["revenue"]) for r in rows} == {
        ("mobile", 1, "10.00"), ("web", 2, "325.00")}
    rows = analyst.get("/api/v1/reports/sales", params={"granularity": "month",
                                                        "group_by": "category"}).json()["rows"]
    assert {(r["group"], r["orders"], r["revenue"]) for r in rows} == {
        ("audio", 2, "300.00"), ("coffee", 2, "30.00")}
    ranged = analyst.get("/api/v1/reports/sales", params={
        "date_from": "2026-03-05T00:00:00Z"}).json()["rows"]
    assert [r["period"] for r in ranged] == ["2026-03-09"]


def test_ticket_report(analyst, session):
    base = WED

    def ticket(priority, responded_h, resolved_h, csat=None, status="resolved"):
        session.add(Ticket(
            channel="chat", subject="s", category="general", priority=priority, status=status,
            created_at=base, updated_at=base,
            first_response_due_at=base + timedelta(hours=2),
            resolution_due_at=base + timedelta(hours=10),
            first_responded_at=base + timedelta(hours=responded_h) if responded_h else None,
            resolved_at=base + timedelta(hours=resolved_h) if resolved_h else None,
            csat_score=csat))

    ticket("high", 1, 5, csat=5)
    ticket("normal", 3, 12, csat=3)
    ticket("normal", None, None, status="open")  # overdue on both SLAs by now
    session.commit()
    r = analyst.get("/api/v1/reports/tickets").json()
    assert r["total"] == 3 and r["by_status"] == {"open": 1, "resolved": 2}
    assert r["by_priority"] == {"high": 1, "normal": 2}
    assert r["first_response"] == {"count": 2, "median_hours": 2.0, "mean_hours": 2.0}
    assert r["resolution"]["median_hours"] == 8.5
    assert r["sla_first_response"] == {"met": 1, "breached": 1, "open_overdue": 1,
                                       "breach_rate": round(2 / 3, 4)}
    assert r["sla_resolution"]["met"] == 1 and r["sla_resolution"]["breached"] == 1
    assert r["csat"] == {"responses": 2, "mean": 4.0,
                         "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}}


def test_campaign_report_lift_and_roi(analyst, session):
    camp = Campaign(name="Lift", channel="email", starts_at=WED, budget=Decimal("100"),
                    audience={})
    session.add(camp)
    session.flush()
    customers = [Customer(name=f"c{i}", email=f"c{i}@x.example", custom_attributes={})
                 for i in range(30)]
    session.add_all(customers)
    session.flush()
    # 20 treated: 20 sent, 10 opened, 5 clicked, 4 converted (50 each); 10 control: 1 converted.
    for i, c in enumerate(customers):
        control = i >= 20
        session.add(CampaignContact(
            campaign_id=camp.id, customer_id=c.id, is_control=control,
            sent_at=None if control else WED,
            opened_at=WED if not control and i < 10 else None,
            clicked_at=WED if not control and i < 5 else None,
            converted_at=WED if (not control and i < 4) or i == 20 else None,
            revenue=Decimal("50") if (not control and i < 4) or i == 20 else Decimal("0")))
    session.commit()
    r = analyst.get(f"/api/v1/reports/campaigns/{camp.id}").json()
    assert (r["treatment"], r["control"], r["sent"], r["opened"], r["clicked"],
            r["converted"]) == (20, 10, 20, 10, 5, 4)
    assert (r["open_rate"], r["click_rate"], r["conversion_rate"]) == (0.5, 0.25, 0.2)
    assert r["control_conversion_rate"] == 0.1 and r["absolute_lift"] == 0.1
    assert r["relative_lift"] == 1.0
    assert r["revenue"] == "200.00" and r["control_revenue"] == "50.00"
    assert r["incremental_revenue"] == "100.00"  # 200 - 50/10 * 20
    assert r["roi"] == 0.0  # (100 - 100) / 100
    assert r["p_value"] == two_proportion_p_value(4, 20, 1, 10)
    listed = analyst.get("/api/v1/reports/campaigns").json()
    assert listed["total"] == 1 and listed["items"][0]["campaign_id"] == camp.id


def test_p_value_matches_a_known_case():
    # 200/1000 vs 150/1000: pooled 0.175, se 0.016993, z = 2.9424, two-sided p = 0.003258.
    assert abs(two_proportion_p_value(200, 1000, 150, 1000) - 0.003258) < 1e-5


def test_reports_need_the_permission(agent):
    assert agent.get("/api/v1/reports/sales").status_code == 403
