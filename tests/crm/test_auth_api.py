from datetime import UTC, datetime, timedelta

import jwt

from crm_backend.core.config import get_settings


def _login(client, email, password):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_every_route_but_health_and_sign_in_requires_auth(app, anon):
    spec = app.openapi()
    open_routes = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not op.get("security"):
                open_routes.append(f"{method.upper()} {path}")
    assert sorted(open_routes) == ["GET /health", "POST /api/v1/auth/token"]
    assert anon.get("/api/v1/customers").status_code == 401
    assert anon.get("/api/v1/customers").json()["error"]["code"] == "unauthorized"
    assert anon.get("/health").json()["status"] == "ok"


def test_login_wrong_password_and_unknown_user_look_the_same(admin, anon):
    me = admin.get("/api/v1/auth/me").json()
    wrong = _login(anon, me["email"], "not the password")
    unknown = _login(anon, "nobody@staff.example", "whatever password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_me_lists_role_permissions(analyst):
    me = analyst.get("/api/v1/auth/me").json()
    assert me["role"] == "analyst"
    assert "reports:read" in me["permissions"] and "customers:write" not in me["permissions"]


def test_forged_and_expired_tokens_are_rejected(anon, admin):
    user_id = admin.get("/api/v1/auth/me").json()["id"]
    now = datetime.now(UTC)
    forged = jwt.encode({"sub": str(user_id), "exp": now + timedelta(hours=1)}, "x" * 40,
                        algorithm="HS256")
    expired = jwt.encode({"sub": str(user_id), "exp": now - timedelta(seconds=1)},
                         get_settings().secret_key, algorithm="HS256")
    for token in (forged, expired, "garbage"):
        resp = anon.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401


def test_role_without_permission_gets_403(analyst):
    resp = analyst.post("/api/v1/customers", json={"name": "X", "email": "x@example.com"})
    assert resp.status_code == 403
    assert resp.json()["error"]["details"]["permission"] == "customers:write"


def test_deactivated_user_loses_access_at_once(admin, agent):
    agent_id = agent.get("/api/v1/auth/me").json()["id"]
    assert admin.patch(f"/api/v1/users/{agent_id}", json={"is_active": False}).status_code == 200
    assert agent.get("/api/v1/customers").status_code == 401


def test_user_admin_is_admin_only(admin, manager):
    assert manager.get("/api/v1/users").status_code == 403
    body = {"email": "New.Agent@Staff.example", "full_name": "New Agent", "role": "agent",
            "password": "long enough password"}
    created = admin.post("/api/v1/users", json=body)
    assert created.status_code == 201 and created.json()["email"] == "new.agent@staff.example"
    assert "password" not in created.text and "password_hash" not in created.text
    assert admin.post("/api/v1/users", json=body).status_code == 409


def test_api_key_scopes_and_revocation(admin, anon):
    created = admin.post("/api/v1/api-keys",
                         json={"name": "action-server", "scopes": ["customers:read"]})
    assert created.status_code == 201
    key = created.json()["key"]
    headers = {"X-API-Key": key}
    assert anon.get("/api/v1/customers", headers=headers).status_code == 200
    write = anon.post("/api/v1/customers", headers=headers,
                      json={"name": "X", "email": "x@example.com"})
    assert write.status_code == 403
    # The key is shown once; listings never reveal it.
    assert key not in admin.get("/api/v1/api-keys").text
    assert admin.delete(f"/api/v1/api-keys/{created.json()['id']}").status_code == 204
    assert anon.get("/api/v1/customers", headers=headers).status_code == 401
    tampered = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    assert anon.get("/api/v1/customers", headers={"X-API-Key": tampered}).status_code == 401


def test_api_keys_cannot_use_staff_only_routes(service_client):
    client = service_client("customers:read")
    assert client.get("/api/v1/auth/me").status_code == 403


def test_passwords_longer_than_bcrypt_reads_are_refused_not_a_500(admin):
    body = {"email": "long@staff.example", "full_name": "L", "role": "agent",
            "password": "é" * 40}  # 40 characters, 80 bytes
    resp = admin.post("/api/v1/users", json=body)
    assert resp.status_code == 422
    assert "72 bytes" in resp.text
