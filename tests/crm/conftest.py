"""Fixtures for the CRM suite.

Every test runs on SQLite, and again on PostgreSQL when DATABASE_URL names one (CI does).
The schema is made by the Alembic migrations, exactly as in production; tables are emptied
between tests.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("CRM_PASSWORD_HASH_ROUNDS", "4")
os.environ["CRM_ENV"] = "test"

from crm_backend.core import config, db, migrate  # noqa: E402
from crm_backend.core.db import Base  # noqa: E402
from tests.crm.settings_env import set_env  # noqa: E402

PG_URL = os.environ.get("DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL.startswith("postgresql") else [])


def _reset_caches() -> None:
    config.get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'crm.db'}"
        yield from _use(url)
        return
    name = f"crm_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _use(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _use(url: str) -> Iterator[str]:
    previous = os.environ.get("CRM_DATABASE_URL")
    os.environ["CRM_DATABASE_URL"] = url
    _reset_caches()
    migrate.upgrade(url)
    yield url
    db.get_engine().dispose()
    if previous is None:
        os.environ.pop("CRM_DATABASE_URL", None)
    else:
        os.environ["CRM_DATABASE_URL"] = previous
    _reset_caches()


@pytest.fixture
def engine(database_url):
    engine = db.get_engine()
    yield engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(conn) else None


def _has_sequence(conn) -> bool:
    return bool(conn.execute(text(
        "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def session(engine):
    with db.get_sessionmaker()() as s:
        yield s


@pytest.fixture
def app(engine):
    from crm_backend.main import create_app

    return create_app()


@pytest.fixture
def anon(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _user_client(app, session, role: str) -> TestClient:
    from crm_backend.auth import service

    email = f"{role}-{uuid.uuid4().hex[:6]}@staff.example"
    service.create_user(session=session, email=email, full_name=role.title(), role=role,
                        password="correct horse battery")
    session.commit()
    client = TestClient(app)
    resp = client.post("/api/v1/auth/token",
                       data={"username": email, "password": "correct horse battery"})
    assert resp.status_code == 200, resp.text
    client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return client


@pytest.fixture
def admin(app, session):
    return _user_client(app, session, "admin")


@pytest.fixture
def manager(app, session):
    return _user_client(app, session, "manager")


@pytest.fixture
def agent(app, session):
    return _user_client(app, session, "agent")


@pytest.fixture
def analyst(app, session):
    return _user_client(app, session, "analyst")


@pytest.fixture
def service_client(app, session):
    """A client authenticated by an API key with the given scopes."""
    from crm_backend.auth import service

    def make(*scopes: str) -> TestClient:
        _, key = service.create_api_key(session=session, name=f"svc-{uuid.uuid4().hex[:6]}",
                                        scopes=list(scopes), created_by_id=None)
        session.commit()
        client = TestClient(app)
        client.headers["X-API-Key"] = key
        return client

    return make


@pytest.fixture
def admin_headers(admin) -> dict:
    return {"Authorization": admin.headers["Authorization"]}


@pytest.fixture
def seeded(engine):
    """A little of everything, so generated ids and filters hit real rows."""
    from datetime import date

    from crm_backend.seed import generate, service

    service.seed(engine, generate.Plan(customers=40, orders=200, as_of=date(2026, 6, 30)))


@pytest.fixture
def api_schema(app):
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", app)



@pytest.fixture
def rasa():
    """A stand-in for Rasa's HTTP API on 127.0.0.1 that records what the CRM sends it."""
    from tests.crm import rasa_fake

    fake, server = rasa_fake.start()
    old = set_env(CRM_RASA_URL=fake.url, CRM_RASA_TOKEN="rasa-secret")
    yield fake
    server.shutdown()
    server.server_close()
    set_env(**old)


@pytest.fixture
def rasa_down(rasa):
    """Rasa configured, but nothing listening."""
    from tests.crm import rasa_fake

    old = set_env(CRM_RASA_URL=rasa_fake.closed_port_url())
    yield
    set_env(**old)


@pytest.fixture
def live_server(app):
    """The app served by uvicorn on 127.0.0.1 in this process, for streams and browsers."""
    import socket
    import threading
    import time

    import uvicorn

    old = set_env(CRM_EVENTS_POLL_SECONDS="0.2")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    set_env(**old)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's chromium, headless, driven by Playwright; skipped where it is not installed
    (apt-get install -y chromium)."""
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def artifacts():
    """test-artifacts/ (git-ignored), for screenshots."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
