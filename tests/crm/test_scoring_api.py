"""Scoring end to end on a small seeded shop: training as a background job, the registry,
scores on customers, audiences, triage of new tickets, recommendations, reports."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_backend.customers.models import CustomerScore
from crm_backend.scoring import features as feats
from crm_backend.scoring.models import ModelName

AS_OF = date(2026, 6, 30)


@pytest.fixture
def shop(engine):
    from crm_backend.seed import generate, service

    service.seed(engine, generate.Plan(customers=400, orders=4000, as_of=AS_OF))


@pytest.fixture
def trained(shop, manager):
    resp = manager.post("/api/v1/scoring/jobs", json={})
    assert resp.status_code == 202, resp.text
    # The test client runs background tasks before returning.
    job = manager.get(f"/api/v1/scoring/jobs/{resp.json()['id']}").json()
    assert job["status"] == "succeeded", job
    return job


def test_training_job_registers_every_model_with_metrics(trained, manager, analyst):
    assert trained["progress"] == 1.0 and trained["step"] == "done"
    assert set(trained["result"]["models"]) == {m.value for m in ModelName}
    page = analyst.get("/api/v1/scoring/models", params={"active": True,
                                                         "page_size": 50}).json()
    assert {m["name"] for m in page["items"]} == {m.value for m in ModelName}
    by_name = {m["name"]: m for m in page["items"]}
    churn = by_name["churn"]
    for key in ("model", "baseline_rfm"):
        assert 0 <= churn["metrics"][key]["roc_auc"] <= 1
        assert 0 <= churn["metrics"][key]["brier"] <= 1
        assert "pr_auc" in churn["metrics"][key]
    # Time-based split: the test snapshot is the later one.
    assert churn["data_stats"]["test"]["snapshot"] > churn["data_stats"]["train"]["snapshot"]
    clv = by_name["clv"]["params"]
    assert all(clv["bgnbd"][k] > 0 for k in ("r", "alpha", "a", "b"))
    assert all(clv["gamma_gamma"][k] > 0 for k in ("p", "q", "v"))
    assert by_name["clusters"]["metrics"]["criterion"] == "silhouette"
    assert by_name["triage"]["metrics"]["category"]["n"] > 0
    assert by_name["churn"]["training_seconds"] > 0
    # Analysts read, only managers and admins train.
    assert analyst.post("/api/v1/scoring/jobs", json={}).status_code == 403
    assert manager.post("/api/v1/scoring/jobs", json={"models": ["nope"]}).status_code == 422


def test_scores_and_segment_on_customers_with_filters_and_sorting(trained, agent, session):
    n_scored = session.scalar(select(func.count()).where(CustomerScore.name == "segment"))
    assert n_scored == 400
    versions = set(session.scalars(select(CustomerScore.model_version)
                                   .where(CustomerScore.name == "churn_risk")))
    assert versions == {"churn:1"}
    risky = agent.get("/api/v1/customers", params={"score": "churn_risk", "score_min": 0.5,
                                                   "sort": "-churn_risk",
                                                   "page_size": 200}).json()
    risks = [c["scores"]["churn_risk"] for c in risky["items"]]
    assert risks and min(risks) >= 0.5 and risks == sorted(risks, reverse=True)
    one = agent.get(f"/api/v1/customers/{risky['items'][0]['id']}").json()
    assert one["segment"] and {"churn_risk", "clv", "campaign_response"} <= set(one["scores"])
    seg = one["segment"]
    listed = agent.get("/api/v1/customers", params={"segment": seg, "page_size": 200}).json()
    assert listed["total"] >= 1 and all(c["segment"] == seg for c in listed["items"])
    assert agent.get("/api/v1/customers", params={"sort": "-clv"}).status_code == 200


def test_segment_summary_audience_and_report(trained, analyst, manager):
    summary = analyst.get("/api/v1/scoring/segments").json()
    assert sum(s["customers"] for s in summary) == 400
    assert {"champions", "prospect"} & {s["segment"] for s in summary}
    assert all(s["description"] for s in summary)
    preview = manager.get("/api/v1/scoring/campaigns/1/audience",
                          params={"top_n": 20, "sample": 5}).json()
    assert preview["top_n"] <= 20 and len(preview["customers"]) <= 5
    responses = [c["campaign_response"] for c in preview["customers"]]
    assert responses == sorted(responses, reverse=True)
    assert preview["expected_responders"] >= 0
    # The narrowed audience is a valid filter: storing it on a campaign is accepted.
    created = manager.post("/api/v1/campaigns", json={
        "name": "Top responders", "channel": "email", "starts_at": "2026-07-01T00:00:00Z",
        "audience": preview["audience_filter"]})
    assert created.status_code == 201, created.text
    count = manager.get(f"/api/v1/campaigns/{created.json()['id']}/audience/preview").json()[
        "count"]
    assert count >= preview["top_n"] - 5  # ties at the threshold may add a few
    page = analyst.get("/api/v1/scoring/report")
    assert page.status_code == 200 and page.text.count("<img") == 6
    png = analyst.get("/api/v1/scoring/report/roc.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_new_tickets_are_triaged_and_ordered_by_escalation(trained, agent):
    body = {"customer_id": 1, "channel": "chat", "subject": "Help",
            "description": "My parcel for ORD-000123 has not arrived yet, the tracking has "
                           "not moved for a week. This is really frustrating."}
    auto = agent.post("/api/v1/tickets", json=body).json()
    assert auto["priority"] in {"low", "normal", "high", "urgent"}
    assert auto["category"] != "general"  # chosen by the model
    assert auto["sentiment"] in {"negative", "neutral", "positive"}
    assert 0 <= auto["escalation_score"] <= 100
    fixed = agent.post("/api/v1/tickets", json=body | {"priority": "urgent",
                                                       "category": "complaint"}).json()
    assert fixed["priority"] == "urgent" and fixed["category"] == "complaint"
    low = agent.post("/api/v1/tickets", json=body | {"priority": "low"}).json()
    assert fixed["escalation_score"] > low["escalation_score"]
    ordered = agent.get("/api/v1/tickets", params={"sort": "-escalation",
                                                   "status": "new", "page_size": 200}).json()
    ids = [t["id"] for t in ordered["items"]]
    assert ids.index(fixed["id"]) < ids.index(low["id"])
    predicted = agent.post("/api/v1/scoring/triage", json={"text": body["description"]})
    assert predicted.json()["category"] == auto["category"]


def test_tickets_without_a_triage_model_get_normal_priority(engine, agent, seeded):
    ticket = agent.post("/api/v1/tickets", json={
        "customer_id": 1, "channel": "web", "subject": "Question",
        "description": "Where is my order?"}).json()
    assert ticket["priority"] == "normal" and ticket["category"] == "general"
    assert ticket["sentiment"] is None and ticket["escalation_score"] is not None


def test_frequently_bought_together(trained, service_client):
    bot = service_client("products:read")
    resp = bot.get("/api/v1/products/1/frequently-bought-together", params={"limit": 3})
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert resp.json()["model_version"] == "associations:1"
    # The seeded shop buys bundles: the espresso machine's companions are coffee products.
    assert items and all(i["sku"].startswith("COF-") for i in items)
    assert bot.get("/api/v1/products/999/frequently-bought-together").status_code == 404


def test_rollback_activates_the_previous_version(trained, manager, session):
    again = manager.post("/api/v1/scoring/jobs", json={"models": ["churn"]})
    assert manager.get(f"/api/v1/scoring/jobs/{again.json()['id']}").json()["status"] \
        == "succeeded"
    active = manager.get("/api/v1/scoring/models", params={"name": "churn", "active": True})
    assert [m["version"] for m in active.json()["items"]] == [2]
    back = manager.post("/api/v1/scoring/models/churn/rollback", json={})
    assert back.status_code == 200 and back.json()["version"] == 1
    versions = manager.get("/api/v1/scoring/models", params={"name": "churn"}).json()["items"]
    assert {m["version"]: m["active"] for m in versions} == {1: True, 2: False}
    none_before = manager.post("/api/v1/scoring/models/churn/rollback", json={})
    assert none_before.status_code == 409
    missing = manager.post("/api/v1/scoring/models/churn/rollback", json={"version": 9})
    assert missing.status_code == 404


def test_features_see_only_the_past(shop, session):
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    before = feats.compute(session, as_of)
    customer_id = int(before.index[0])
    from crm_backend.orders.models import Order

    # An order after the snapshot changes nothing in it.
    session.add(Order(customer_id=customer_id, subtotal=Decimal("99"), total=Decimal("99"),
                      placed_at=as_of + timedelta(days=1)))
    session.flush()
    after = feats.compute(session, as_of)
    assert after.loc[customer_id, feats.FEATURES].equals(before.loc[customer_id, feats.FEATURES])
    # And the set-based figures agree with a plain per-customer count.
    orders = session.scalars(select(Order).where(Order.customer_id == customer_id,
                                                 Order.placed_at < as_of)).all()
    counted = [o for o in orders if o.cancelled_at is None or o.cancelled_at >= as_of]
    assert before.loc[customer_id, "frequency"] == len(counted)
    if counted:
        last = max(o.placed_at for o in counted)
        assert before.loc[customer_id, "recency_days"] == pytest.approx(
            (as_of - last).total_seconds() / 86400, abs=1e-3)


def test_schedule_starts_jobs_and_failures_are_reported(engine, monkeypatch, admin):
    import time

    from crm_backend.core import config
    from crm_backend.main import create_app

    monkeypatch.setenv("CRM_SCORING_INTERVAL_HOURS", str(0.5 / 3600))  # every half second
    config.get_settings.cache_clear()
    try:
        from fastapi.testclient import TestClient

        with TestClient(create_app()) as client:
            client.headers.update(admin.headers)
            deadline = time.monotonic() + 30
            jobs = []
            while time.monotonic() < deadline and not any(
                    j["status"] == "failed" for j in jobs):
                time.sleep(0.5)
                jobs = client.get("/api/v1/scoring/jobs").json()["items"]
    finally:
        monkeypatch.delenv("CRM_SCORING_INTERVAL_HOURS")
        config.get_settings.cache_clear()
    # An empty shop has nothing to learn from: the job fails and says why.
    failed = [j for j in jobs if j["status"] == "failed"]
    assert failed and failed[0]["created_by"] == "schedule", jobs
    assert failed[0]["error"] and failed[0]["finished_at"]
