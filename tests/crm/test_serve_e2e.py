"""The `make run` path with real processes: migrate, seed the demo, serve, and use the API."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CRM = [sys.executable, "-m", "crm_backend.cli"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path, database_url):
    # A database of its own, empty, on the same backend as the rest of this run.
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/run.db"
    else:
        url = _empty_pg_database(database_url)
    env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_ENV": "development",
           "CRM_PASSWORD_HASH_ROUNDS": "4"}
    for args in (["db", "upgrade"], ["seed", "--demo", "--if-empty"]):
        done = subprocess.run(CRM + args, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    proc = subprocess.Popen(CRM + ["serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the CRM did not become healthy within 30 s")
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if not url.startswith("sqlite"):
            _drop_pg_database(url)


def _empty_pg_database(base_url: str) -> str:
    from sqlalchemy import create_engine, make_url, text

    url = make_url(base_url)
    name = f"{url.database}_run"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def test_demo_system_serves_docs_and_data(served):
    base, env = served
    assert httpx.get(f"{base}/docs").status_code == 200
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": "agent@example.com", "password": "demo-password-1"})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    customers = httpx.get(f"{base}/api/v1/customers", headers=headers).json()
    assert customers["total"] >= 100
    orders = httpx.get(f"{base}/api/v1/orders", headers=headers).json()
    assert orders["total"] >= 500
    tickets = httpx.get(f"{base}/api/v1/tickets", headers=headers).json()
    assert tickets["total"] > 0


def test_seed_if_empty_leaves_a_populated_database_alone(served):
    _, env = served
    again = subprocess.run(CRM + ["seed", "--demo", "--if-empty"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0
    assert "already" in (again.stdout + again.stderr).lower()
