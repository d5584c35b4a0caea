from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from crm_backend.campaigns.models import CampaignContact
from crm_backend.customers.models import Customer
from tests.crm import factories

NOW = datetime.now(UTC)


def _campaign(client, **over):
    body = {"name": "Spring sale", "channel": "email", "starts_at": NOW.isoformat(),
            "ends_at": (NOW + timedelta(days=7)).isoformat(), "budget": "100.00",
            "control_fraction": 0.2, "offer_code": "SPRING10",
            "audience": {"all": [{"field": "tag", "op": "has", "value": "vip"}]}}
    body.update(over)
    resp = client.post("/api/v1/campaigns", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_create_validates_and_lists_active(manager):
    c = _campaign(manager)
    assert c["active"] is True
    assert manager.post("/api/v1/campaigns", json={
        "name": "Spring sale", "channel": "email", "starts_at": NOW.isoformat()}).status_code == 409
    bad_dates = manager.post("/api/v1/campaigns", json={
        "name": "x", "channel": "sms", "starts_at": NOW.isoformat(),
        "ends_at": (NOW - timedelta(days=1)).isoformat()})
    assert bad_dates.status_code == 422
    bad_audience = manager.post("/api/v1/campaigns", json={
        "name": "y", "channel": "web", "starts_at": NOW.isoformat(),
        "audience": {"field": "shoe_size", "op": "eq", "value": 3}})
    assert bad_audience.status_code == 422
    assert "unknown field" in bad_audience.json()["error"]["message"]
    _campaign(manager, name="Old", starts_at=(NOW - timedelta(days=30)).isoformat(),
              ends_at=(NOW - timedelta(days=20)).isoformat())
    active = manager.get("/api/v1/campaigns", params={"active": True}).json()
    assert [x["name"] for x in active["items"]] == ["Spring sale"]


def test_preview_respects_consent_and_erasure(manager, agent, session):
    keep = factories.customer(agent, tags=["vip"], marketing_consent=True)
    factories.customer(agent, tags=["vip"], marketing_consent=False)
    gone = factories.customer(agent, tags=["vip"], marketing_consent=True)
    session.get(Customer, gone["id"]).erased_at = NOW
    session.commit()
    email = _campaign(manager)
    preview = manager.get(f"/api/v1/campaigns/{email['id']}/audience/preview").json()
    assert preview["count"] == 1 and preview["sample"][0]["id"] == keep["id"]
    web = _campaign(manager, name="Web banner", channel="web")
    assert manager.get(f"/api/v1/campaigns/{web['id']}/audience/preview").json()["count"] == 2


def test_enrol_is_idempotent_and_control_split_is_stable(manager, session):
    now = datetime.now(UTC)
    session.execute(insert(Customer), [
        {"name": f"C{i}", "email": f"c{i}@bulk.example", "marketing_consent": True,
         "custom_attributes": {}, "created_at": now, "updated_at": now, "version": 1}
        for i in range(2000)])
    session.commit()
    c = _campaign(manager, channel="web", audience={}, control_fraction=0.2)
    first = manager.post(f"/api/v1/campaigns/{c['id']}/enrol").json()
    assert first["enrolled"] == 2000 and first["already_enrolled"] == 0
    assert 0.17 < first["control"] / 2000 < 0.23
    split = dict(session.execute(select(CampaignContact.customer_id, CampaignContact.is_control)
                                 ).all())
    again = manager.post(f"/api/v1/campaigns/{c['id']}/enrol").json()
    assert again == {"enrolled": 0, "already_enrolled": 2000, "treatment": first["treatment"],
                     "control": first["control"]}
    assert dict(session.execute(select(CampaignContact.customer_id, CampaignContact.is_control)
                                ).all()) == split


def test_contact_events(manager, agent, session):
    cust = factories.customer(agent, tags=["vip"], marketing_consent=True)
    c = _campaign(manager, control_fraction=0)
    manager.post(f"/api/v1/campaigns/{c['id']}/enrol")
    url = f"/api/v1/campaigns/{c['id']}/contacts/{cust['id']}/events"
    clicked = manager.post(url, json={"type": "clicked"}).json()
    assert clicked["sent_at"] and clicked["opened_at"] and clicked["clicked_at"]
    first = manager.post(url, json={"type": "converted", "revenue": "49.90"}).json()
    again = manager.post(url, json={"type": "converted", "revenue": "99.00"}).json()
    assert first["converted_at"] == again["converted_at"] and again["revenue"] == "49.90"
    assert manager.post(f"/api/v1/campaigns/{c['id']}/contacts/999999/events",
                        json={"type": "sent"}).status_code == 404
    contact = session.scalar(select(CampaignContact))
    contact.is_control = True
    session.commit()
    assert manager.post(url, json={"type": "opened"}).status_code == 409


def test_agents_read_campaigns_but_cannot_create(agent):
    assert agent.get("/api/v1/campaigns").status_code == 200
    assert agent.post("/api/v1/campaigns", json={"name": "x", "channel": "web",
                                                 "starts_at": NOW.isoformat()}).status_code == 403
