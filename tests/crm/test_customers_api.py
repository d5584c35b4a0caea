def _new(client, **over):
    body = {"name": "Ada Lovelace", "email": "Ada@Example.com", "phone": "+44 20 7946 0018",
            "tags": ["VIP", "newsletter"], "marketing_consent": True,
            "address": {"line1": "1 Main St", "city": "London", "postal_code": "N1 9GU",
                        "country": "GB"},
            "custom_attributes": {"shoe_size": 38}}
    body.update(over)
    return client.post("/api/v1/customers", json=body)


def test_create_normalises_and_returns_etag(agent):
    resp = _new(agent)
    assert resp.status_code == 201, resp.text
    data = resp.json()
    assert data["email"] == "ada@example.com"
    assert data["phone"] == "+442079460018"
    assert data["tags"] == ["newsletter", "vip"]
    assert data["marketing_consent_at"] is not None
    assert resp.headers["ETag"] == '"1"'


def test_duplicate_email_is_409_in_any_case(agent):
    assert _new(agent).status_code == 201
    resp = _new(agent, email="ADA@example.COM")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "conflict"


def test_invalid_body_is_422_with_shared_error_shape(agent):
    resp = _new(agent, email="not-an-email", address={"line1": "x"})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "validation_error"
    locs = {tuple(e["loc"]) for e in err["details"]["errors"]}
    assert ("body", "email") in locs


def test_missing_customer_is_404(agent):
    resp = agent.get("/api/v1/customers/999999")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_stale_if_match_is_409_and_nothing_changes(agent):
    cid = _new(agent).json()["id"]
    first = agent.patch(f"/api/v1/customers/{cid}", json={"name": "A. King"},
                        headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = agent.patch(f"/api/v1/customers/{cid}", json={"name": "Overwritten"},
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["current_version"] == 2
    assert agent.get(f"/api/v1/customers/{cid}").json()["name"] == "A. King"


def test_consent_change_is_timestamped(agent):
    cid = _new(agent, marketing_consent=False).json()["id"]
    data = agent.patch(f"/api/v1/customers/{cid}", json={"marketing_consent": True}).json()
    assert data["marketing_consent"] is True and data["marketing_consent_at"]


def test_search_by_name_email_phone_and_paging(agent):
    for i in range(7):
        _new(agent, name=f"Person {i}", email=f"p{i}@shop.example", phone=f"+49 30 1234 56{i}0")
    page = agent.get("/api/v1/customers", params={"page_size": 3, "sort": "-name"}).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    assert page["items"][0]["name"] == "Person 6"
    assert agent.get("/api/v1/customers", params={"q": "p3@shop"}).json()["total"] == 1
    assert agent.get("/api/v1/customers", params={"q": "person 4"}).json()["total"] == 1
    assert agent.get("/api/v1/customers", params={"q": "030 1234 5650"}).json()["total"] == 0
    assert agent.get("/api/v1/customers", params={"q": "+49 30 1234 5650"}).json()["total"] == 1
    assert agent.get("/api/v1/customers", params={"email": "P2@SHOP.example"}).json()["total"] == 1


def test_bad_sort_and_page_size_are_422(agent):
    assert agent.get("/api/v1/customers", params={"sort": "password"}).status_code == 422
    assert agent.get("/api/v1/customers", params={"page_size": 5000}).status_code == 422


def test_filter_by_tag(agent):
    _new(agent, email="a@x.example", tags=["vip"])
    _new(agent, email="b@x.example", tags=["other"])
    assert agent.get("/api/v1/customers", params={"tag": "VIP"}).json()["total"] == 1
