def test_touch_creates_once_then_updates(service_client, agent):
    bot = service_client("conversations:write", "conversations:read")
    body = {"channel": "telegram", "sender_id": "123456"}
    first = bot.post("/api/v1/conversations", json=body)
    again = bot.post("/api/v1/conversations", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["last_message_at"] >= first.json()["last_message_at"]
    assert bot.get("/api/v1/conversations", params={"channel": "telegram"}).json()["total"] == 1


def test_link_customer(service_client, agent):
    from tests.crm import factories

    bot = service_client("conversations:write", "conversations:read")
    conv = bot.post("/api/v1/conversations", json={"channel": "socketio", "sender_id": "s1"}).json()
    cust = factories.customer(agent)
    linked = bot.patch(f"/api/v1/conversations/{conv['id']}", json={"customer_id": cust["id"]})
    assert linked.status_code == 200
    assert linked.json()["customer_id"] == cust["id"] and linked.json()["identified_at"]
    assert bot.patch(f"/api/v1/conversations/{conv['id']}", json={"customer_id": 999999}
                     ).status_code == 422
    assert agent.get("/api/v1/conversations", params={"customer_id": cust["id"]}
                     ).json()["total"] == 1


def test_bad_channel_name_is_422(service_client):
    bot = service_client("conversations:write")
    assert bot.post("/api/v1/conversations", json={"channel": "Tele gram", "sender_id": "1"}
                    ).status_code == 422
