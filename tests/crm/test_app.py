import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from crm_backend.auth.permissions import permission_matrix_markdown
from crm_backend.core.config import DEV_SECRET_KEY, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_production_refuses_default_or_short_secret():
    for secret in (DEV_SECRET_KEY, "short"):
        with pytest.raises(ValidationError, match="CRM_SECRET_KEY"):
            Settings(env="production", secret_key=secret)
    assert Settings(env="production", secret_key="k" * 40).env == "production"


def test_app_does_not_start_in_production_with_default_secret(tmp_path):
    env = {"CRM_ENV": "production", "CRM_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", "import crm_backend.main"], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert "CRM_SECRET_KEY must be set" in proc.stderr


def test_oversized_body_is_413(agent):
    big = {"name": "X", "email": "x@example.com", "custom_attributes": {"blob": "a" * 1_100_000}}
    resp = agent.post("/api/v1/customers", json=big)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_chunked_oversized_body_is_413(agent):
    def chunks():
        yield b'{"name": "X", "email": "x@example.com", "custom_attributes": {"b": "'
        for _ in range(1200):
            yield b"a" * 1000
        yield b'"}}'

    resp = agent.post("/api/v1/customers", content=chunks(),
                      headers={"Content-Type": "application/json"})
    assert resp.status_code == 413


def test_health_reports_database(anon):
    body = anon.get("/health").json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}


def test_health_is_503_when_database_is_down(anon, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from crm_backend.core import db

    def broken():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.get_engine(), "connect", broken)
    resp = anon.get("/health")
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "database_unavailable"


def test_permission_docs_match_code(app):
    committed = (ROOT / "docs" / "permissions.md").read_text()
    assert committed == permission_matrix_markdown(app), (
        "docs/permissions.md is stale: run `crm docs permissions`")
