from sqlalchemy import text
from typer.testing import CliRunner

from crm_backend.cli import app

runner = CliRunner()


def test_users_create_and_sign_in(engine, anon):
    result = runner.invoke(app, ["users", "create", "lead@staff.example", "--role", "manager",
                                 "--name", "Team Lead", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    token = anon.post("/api/v1/auth/token",
                      data={"username": "lead@staff.example", "password": "a long password"})
    assert token.status_code == 200


def test_users_create_rejects_bad_role_and_duplicates(engine):
    bad = runner.invoke(app, ["users", "create", "x@staff.example", "--role", "boss",
                              "--password", "a long password"])
    assert bad.exit_code == 1 and "unknown role" in bad.output
    args = ["users", "create", "dup@staff.example", "--role", "agent", "--password",
            "a long password"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "already exists" in again.output


def test_apikeys_create_prints_a_working_key(engine, anon):
    result = runner.invoke(app, ["apikeys", "create", "action-server", "--scope",
                                 "customers:read", "--scope", "tickets:write"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert anon.get("/api/v1/customers", headers={"X-API-Key": key}).status_code == 200
    bad = runner.invoke(app, ["apikeys", "create", "x", "--scope", "everything"])
    assert bad.exit_code == 1 and "unknown scope" in bad.output


def test_apikeys_replace_gives_a_new_secret_and_scopes(engine, anon):
    args = ["apikeys", "create", "assistant", "--scope", "customers:read"]
    old = runner.invoke(app, args).stdout.strip().splitlines()[-1]
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--replace" in again.output
    new = runner.invoke(app, [*args, "--scope", "tickets:read", "--replace"])
    assert new.exit_code == 0, new.output
    key = new.stdout.strip().splitlines()[-1]
    assert anon.get("/api/v1/customers", headers={"X-API-Key": old}).status_code == 401
    assert anon.get("/api/v1/tickets", headers={"X-API-Key": key}).status_code == 200


def test_users_and_keys_are_listed_and_keys_revoked(engine, anon):
    runner.invoke(app, ["users", "create", "list.me@staff.example", "--role", "analyst",
                        "--password", "a long password"])
    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0 and "list.me@staff.example" in listed.output
    created = runner.invoke(app, ["apikeys", "create", "to-revoke", "--scope", "customers:read"])
    key = created.stdout.strip().splitlines()[-1]
    keys = runner.invoke(app, ["apikeys", "list"])
    assert "to-revoke" in keys.output and key not in keys.output
    with engine.connect() as conn:
        key_id = conn.execute(text("SELECT id FROM api_keys WHERE name = 'to-revoke'")).scalar()
    assert runner.invoke(app, ["apikeys", "revoke", str(key_id)]).exit_code == 0
    assert anon.get("/api/v1/customers", headers={"X-API-Key": key}).status_code == 401
    assert runner.invoke(app, ["apikeys", "revoke", "999999"]).exit_code == 1
