from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from crm_backend.campaigns.models import Campaign, CampaignContact
from crm_backend.campaigns.service import control_bucket, control_threshold
from crm_backend.customers.models import Customer, CustomerTag

API = "/api/v1/campaigns"
NOW = datetime.now(UTC)
VIP = {"field": "tag", "op": "has", "value": "vip"}


def _body(**over) -> dict:
    body = {"name": "Spring sale", "channel": "email", "starts_at": NOW.isoformat(),
            "ends_at": (NOW + timedelta(days=7)).isoformat(), "budget": "100.00",
            "control_fraction": 0.2, "offer_code": "SPRING10", "audience": {"all": [VIP]}}
    body.update(over)
    return body


def _campaign(client, **over) -> dict:
    resp = client.post(API, json=_body(**over))
    assert resp.status_code == 201, resp.text
    return resp.json()


def _customers(session, n, *, start=0, consent=True, tags=()) -> list[int]:
    """Bulk-inserted customers (no audit rows, fast), optionally tagged."""
    ids = session.scalars(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), [
        {"name": f"C{i}", "email": f"c{i}@bulk.example", "marketing_consent": consent,
         "custom_attributes": {}, "created_at": NOW, "updated_at": NOW, "version": 1}
        for i in range(start, start + n)]).all()
    if tags:
        session.execute(insert(CustomerTag), [{"customer_id": i, "tag": t}
                                              for i in ids for t in tags])
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Planner statistics, as `crm seed` refreshes them after a bulk load; without them
        # PostgreSQL takes the fresh table for empty and plans enrolment as a nested loop.
        session.execute(text("ANALYZE customers, campaign_contacts"))
        session.commit()
    return list(ids)


def _assignments(session, campaign_id) -> dict[int, bool]:
    return dict(session.execute(select(CampaignContact.customer_id, CampaignContact.is_control)
                                .where(CampaignContact.campaign_id == campaign_id)).all())


def test_create_and_get(manager, session):
    resp = manager.post(API, json=_body(audience={"all": [
        {"field": "tag", "op": "has", "value": " VIP "},
        {"field": "country", "op": "in", "value": ["de", "AT"]}]}))
    assert resp.status_code == 201, resp.text
    assert resp.headers["ETag"] == '"1"'
    created = resp.json()
    assert {k: created[k] for k in ("name", "channel", "budget", "control_fraction", "public",
                                    "offer_code", "active", "version")} == {
        "name": "Spring sale", "channel": "email", "budget": "100.00", "control_fraction": 0.2,
        "public": False, "offer_code": "SPRING10", "active": True, "version": 1}
    # The audience is stored normalized: tags lower-cased, countries upper-cased.
    normalized = {"all": [{"field": "tag", "op": "has", "value": "vip"},
                          {"field": "country", "op": "in", "value": ["DE", "AT"]}]}
    assert created["audience"] == normalized
    assert session.get(Campaign, created["id"]).audience == normalized

    got = manager.get(f"{API}/{created['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    assert got.json() == created
    assert manager.get(f"{API}/999999").status_code == 404
    duplicate = manager.post(API, json=_body(channel="web"))
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"


INVALID_FIELDS = [
    ({"ends_at": (NOW - timedelta(days=1)).isoformat()}, "ends_at must be after starts_at"),
    ({"ends_at": NOW.isoformat()}, "ends_at must be after starts_at"),
    ({"budget": "-1"}, "greater than or equal to 0"),
    ({"control_fraction": 0.6}, "less than or equal to 0.5"),
    ({"control_fraction": -0.1}, "greater than or equal to 0"),
    ({"starts_at": "2026-03-01T10:00:00"}, "timezone"),
    ({"channel": "fax"}, "Input should be 'email', 'sms', 'web' or 'chat'"),
    ({"name": ""}, "at least 1 character"),
]


def test_create_rejects_invalid_fields(manager, session):
    for over, problem in INVALID_FIELDS:
        resp = manager.post(API, json=_body(**over))
        assert resp.status_code == 422, over
        assert problem in str(resp.json()["error"]["details"]), over
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


BAD_AUDIENCES = [
    ({"field": "shoe_size", "op": "eq", "value": 3}, "audience",
     "unknown field 'shoe_size'"),
    ({"all": [VIP, {"field": "tag", "op": "gt", "value": "vip"}]}, "audience.all[1].op",
     "Input should be 'has' or 'has_not'"),
    ({"any": [{"field": "orders_count", "op": "gte", "value": "two"}]},
     "audience.any[0].value", "Input should be a valid number"),
    ({"not": {"field": "created_at", "op": "before", "value": "last year"}},
     "audience.not.value", "Input should be a valid datetime"),
    ({"all": []}, "audience.all", "List should have at least 1 item"),
    ({"everyone": True}, "audience", 'expected {"all": [...]}'),
]


def test_bad_audience_is_422_with_a_clear_message(manager, session):
    existing = _campaign(manager)
    for audience, path, problem in BAD_AUDIENCES:
        resp = manager.post(API, json=_body(name="New", audience=audience))
        assert resp.status_code == 422, audience
        [error] = resp.json()["error"]["details"]["errors"]
        assert error["loc"] == ["body", "audience"]
        assert f"{path}: {problem}" in error["msg"]
        patched = manager.patch(f"{API}/{existing['id']}", json={"audience": audience})
        assert patched.status_code == 422, audience
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    assert session.get(Campaign, existing["id"]).audience == {"all": [VIP]}


def test_list_filters(manager):
    _campaign(manager, name="Spring sale")
    _campaign(manager, name="Old banner", channel="web", public=True,
              starts_at=(NOW - timedelta(days=30)).isoformat(),
              ends_at=(NOW - timedelta(days=20)).isoformat())
    _campaign(manager, name="Future chat", channel="chat",
              starts_at=(NOW + timedelta(days=3)).isoformat(), ends_at=None)
    _campaign(manager, name="Open-ended SMS", channel="sms", public=True,
              starts_at=(NOW - timedelta(days=1)).isoformat(), ends_at=None)

    def names(**params):
        page = manager.get(API, params={"sort": "name", **params}).json()
        assert page["total"] == len(page["items"])
        return [c["name"] for c in page["items"]]

    assert names() == ["Future chat", "Old banner", "Open-ended SMS", "Spring sale"]
    assert names(active=True) == ["Open-ended SMS", "Spring sale"]
    assert names(active=False) == ["Future chat", "Old banner"]
    assert names(channel="web") == ["Old banner"]
    assert names(public=True) == ["Old banner", "Open-ended SMS"]
    assert names(public=True, active=True) == ["Open-ended SMS"]
    default_order = manager.get(API).json()["items"]  # newest start first
    assert [c["name"] for c in default_order][0] == "Future chat"
    page = manager.get(API, params={"page": 2, "page_size": 3, "sort": "name"}).json()
    assert page["total"] == 4 and [c["name"] for c in page["items"]] == ["Spring sale"]


def test_patch_honours_if_match(manager, session):
    c = _campaign(manager)
    url = f"{API}/{c['id']}"
    resp = manager.patch(url, json={"budget": "250.50", "description": "Tulips"},
                         headers={"If-Match": '"1"'})
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"] == '"2"'
    assert (resp.json()["budget"], resp.json()["version"]) == ("250.50", 2)
    stale = manager.patch(url, json={"budget": "1.00"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_write"
    bad_end = manager.patch(url, json={"ends_at": (NOW - timedelta(days=1)).isoformat()})
    assert bad_end.status_code == 422
    assert "ends_at must be after starts_at" in bad_end.json()["error"]["message"]
    assert manager.patch(url, json={"name": None}).status_code == 422
    assert manager.patch(url, json={"control_fraction": 0.7}).status_code == 422
    _campaign(manager, name="Other")
    assert manager.patch(url, json={"name": "Other"}).status_code == 409
    session.expire_all()
    stored = session.get(Campaign, c["id"])
    assert (stored.version, str(stored.budget), stored.name, stored.description) == (
        2, "250.50", "Spring sale", "Tulips")
    cleared = manager.patch(url, json={"ends_at": None, "public": True})
    assert cleared.status_code == 200
    assert (cleared.json()["ends_at"], cleared.json()["public"]) == (None, True)


def test_channel_is_fixed_once_customers_are_enrolled(manager, session):
    _customers(session, 3, tags=["vip"])
    c = _campaign(manager, channel="web")
    url = f"{API}/{c['id']}"
    assert manager.patch(url, json={"channel": "chat"}).json()["channel"] == "chat"
    assert manager.post(f"{url}/enrol").json()["enrolled"] == 3
    resp = manager.patch(url, json={"channel": "email"})
    assert resp.status_code == 409
    assert manager.patch(url, json={"channel": "chat", "budget": "5.00"}).status_code == 200


def test_preview_and_enrol_respect_consent_and_erasure(manager, session):
    consenting = _customers(session, 13, tags=["vip"])
    without_consent = _customers(session, 2, start=100, consent=False, tags=["vip"])
    _customers(session, 4, start=200)  # not VIP
    erased = session.get(Customer, consenting.pop())
    erased.erased_at = NOW
    session.commit()

    email = _campaign(manager)
    preview = manager.get(f"{API}/{email['id']}/audience/preview").json()
    assert preview["count"] == 12
    assert [s["id"] for s in preview["sample"]] == consenting[:10]
    assert preview["sample"][0]["tags"] == ["vip"]
    web = _campaign(manager, name="Web banner", channel="web")
    preview = manager.get(f"{API}/{web['id']}/audience/preview").json()
    assert preview["count"] == 14
    assert manager.get(f"{API}/999999/audience/preview").status_code == 404

    enrolled = manager.post(f"{API}/{email['id']}/enrol").json()
    assert enrolled["enrolled"] == 12
    assert set(_assignments(session, email["id"])) == set(consenting)
    manager.post(f"{API}/{web['id']}/enrol")
    assert set(_assignments(session, web["id"])) == set(consenting) | set(without_consent)


def test_enrol_is_idempotent_and_control_split_stable(manager, session):
    ids = _customers(session, 2000)
    c = _campaign(manager, channel="web", audience={}, control_fraction=0.2)
    url = f"{API}/{c['id']}/enrol"
    first = manager.post(url).json()
    assert first["enrolled"] == 2000 and first["already_enrolled"] == 0
    assert first["control"] + first["treatment"] == 2000
    assert 0.17 < first["control"] / 2000 < 0.23
    split = _assignments(session, c["id"])
    assert sum(split.values()) == first["control"]
    # The database computed exactly the documented hash (same on SQLite and PostgreSQL).
    threshold = control_threshold(0.2)
    assert split == {i: control_bucket(c["id"], i) < threshold for i in ids}

    again = manager.post(url).json()
    assert again == {"enrolled": 0, "already_enrolled": 2000, "treatment": first["treatment"],
                     "control": first["control"]}
    assert _assignments(session, c["id"]) == split

    # Newcomers are added with their own stable assignment; nobody already in moves.
    newcomers = _customers(session, 50, start=5000)
    third = manager.post(url).json()
    assert (third["enrolled"], third["already_enrolled"]) == (50, 2000)
    now = _assignments(session, c["id"])
    assert {i: now[i] for i in ids} == split
    assert third["control"] == first["control"] + sum(now[i] for i in newcomers)
    assert manager.post(f"{API}/999999/enrol").status_code == 404

    # Other campaigns hold back other customers: independent 20% groups share about 4% of
    # the customers (about 80 of 2,000, sd 9), where one hash for all would share nearly all.
    groups = [{i for i in ids if split[i]}]
    for name in ("B", "C"):
        other = _campaign(manager, name=name, channel="web", audience={}, control_fraction=0.2)
        manager.post(f"{API}/{other['id']}/enrol")
        groups.append({i for i, k in _assignments(session, other["id"]).items() if k and i in ids})
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert 40 < len(groups[a] & groups[b]) < 130


def test_contacts_list_filters(manager, session):
    _customers(session, 40)
    c = _campaign(manager, channel="web", audience={}, control_fraction=0.5)
    manager.post(f"{API}/{c['id']}/enrol")
    split = _assignments(session, c["id"])
    control = sorted(i for i, k in split.items() if k)
    treated = sorted(i for i, k in split.items() if not k)
    assert control and treated
    for customer_id in (treated[0], treated[1], control[0]):
        resp = manager.post(f"{API}/{c['id']}/contacts/{customer_id}/events",
                            json={"type": "converted", "revenue": "10.00"})
        assert resp.status_code == 200

    def listed(**params):
        page = manager.get(f"{API}/{c['id']}/contacts",
                           params={"page_size": 200, **params}).json()
        assert page["total"] == len(page["items"])
        return [x["customer_id"] for x in page["items"]]

    assert listed() == sorted(split)
    assert listed(is_control=True) == control
    assert listed(is_control=False) == treated
    assert listed(converted=True) == sorted([treated[0], treated[1], control[0]])
    assert listed(converted=True, is_control=False) == [treated[0], treated[1]]
    assert len(listed(converted=False)) == 37
    page = manager.get(f"{API}/{c['id']}/contacts", params={"page_size": 5, "page": 2}).json()
    assert page["total"] == 40 and [x["customer_id"] for x in page["items"]] == sorted(split)[5:10]
    assert manager.get(f"{API}/999999/contacts").status_code == 404


def test_contact_events(manager, session):
    _customers(session, 20)
    c = _campaign(manager, channel="web", audience={}, control_fraction=0.5)
    manager.post(f"{API}/{c['id']}/enrol")
    split = _assignments(session, c["id"])
    treated = min(i for i, k in split.items() if not k)
    control = min(i for i, k in split.items() if k)

    def event(customer_id, **body):
        return manager.post(f"{API}/{c['id']}/contacts/{customer_id}/events", json=body)

    t1, t0 = "2026-03-02T10:00:00Z", "2026-03-01T10:00:00Z"
    opened = event(treated, type="opened", at=t1)
    assert opened.status_code == 200
    assert (opened.json()["sent_at"], opened.json()["opened_at"], opened.json()["clicked_at"]) \
        == ("2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", None)
    # The first time of each event stays; a late "sent" changes nothing.
    assert event(treated, type="sent", at=t0).json()["sent_at"] == "2026-03-02T10:00:00Z"
    clicked = event(treated, type="clicked").json()
    assert clicked["clicked_at"] > clicked["opened_at"]
    assert event(treated, type="clicked", at=t0).json()["clicked_at"] == clicked["clicked_at"]
    converted = event(treated, type="converted", revenue="49.90")
    assert converted.status_code == 200 and converted.json()["revenue"] == "49.90"
    repeat = event(treated, type="converted", revenue="99.00").json()
    assert (repeat["converted_at"], repeat["revenue"]) == (converted.json()["converted_at"],
                                                           "49.90")

    for kind in ("sent", "opened", "clicked"):
        resp = event(control, type=kind)
        assert resp.status_code == 409
        assert resp.json()["error"]["details"] == {"is_control": True}
    control_conv = event(control, type="converted", revenue="20.00", at=t0).json()
    assert (control_conv["converted_at"], control_conv["revenue"], control_conv["sent_at"]) == (
        "2026-03-01T10:00:00Z", "20.00", None)

    assert event(treated, type="opened", revenue="5.00").status_code == 422
    assert event(treated, type="bounced").status_code == 422
    assert event(treated, type="sent", at="2026-03-01T10:00:00").status_code == 422
    assert event(999999, type="sent").status_code == 404
    assert manager.post(f"{API}/999999/contacts/{treated}/events",
                        json={"type": "sent"}).status_code == 404

    rows = {r.customer_id: r for r in session.scalars(select(CampaignContact))}
    t = rows[treated]
    assert t.sent_at == datetime(2026, 3, 2, 10, tzinfo=UTC) and str(t.revenue) == "49.90"
    k = rows[control]
    assert (k.sent_at, k.opened_at, k.clicked_at, str(k.revenue)) == (None, None, None, "20.00")


def test_permissions(agent, analyst, anon, manager):
    c = _campaign(manager)
    for client in (agent, analyst):
        assert client.get(API).status_code == 200
        assert client.get(f"{API}/{c['id']}/audience/preview").status_code == 200
        assert client.post(API, json=_body(name="x")).status_code == 403
        assert client.patch(f"{API}/{c['id']}", json={"budget": "1"}).status_code == 403
        assert client.post(f"{API}/{c['id']}/enrol").status_code == 403
    assert anon.get(API).status_code == 401
