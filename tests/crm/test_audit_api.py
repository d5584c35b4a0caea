from tests.crm import factories


def test_writes_are_audited_with_actor_and_changes(manager, agent):
    me = agent.get("/api/v1/auth/me").json()
    cust = factories.customer(agent, name="Before")
    agent.patch(f"/api/v1/customers/{cust['id']}", json={"name": "After"})
    page = manager.get("/api/v1/audit", params={"entity_type": "customers",
                                                "entity_id": str(cust["id"])}).json()
    actions = [(e["action"], e["actor"]) for e in page["items"]]
    assert actions == [("update", f"user:{me['id']}"), ("create", f"user:{me['id']}")]
    update = page["items"][0]
    assert update["before"] == {"name": "Before"} and update["after"] == {"name": "After"}
    assert page["items"][1]["after"]["email"] == cust["email"]


def test_api_key_writes_name_the_key_and_secrets_never_appear(manager, admin, service_client):
    bot = service_client("customers:write")
    bot.post("/api/v1/customers", json={"name": "Via bot", "email": "bot@example.com"})
    entries = manager.get("/api/v1/audit", params={"entity_type": "customers"}).json()["items"]
    assert entries[0]["actor"].startswith("api_key:")
    admin.post("/api/v1/users", json={"email": "s@staff.example", "full_name": "S",
                                      "role": "agent", "password": "a very long password"})
    users = manager.get("/api/v1/audit", params={"entity_type": "users",
                                                 "action": "create"}).json()["items"]
    assert users and all(e["after"]["password_hash"] == "***" for e in users)


def test_audit_needs_permission(agent):
    assert agent.get("/api/v1/audit").status_code == 403
