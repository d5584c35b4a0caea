"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked instead."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ("postgres:", "redis:", "rabbitmq:")


def test_compose_uses_official_images_health_checks_and_env_secrets():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"postgres", "redis", "rabbitmq", "crm"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        if "image" in service:
            assert service["image"].startswith(OFFICIAL), service["image"]
    crm = services["crm"]
    env = crm["environment"]
    assert env["CRM_ENV"] == "production"
    assert env["CRM_SECRET_KEY"].startswith("${CRM_SECRET_KEY:?")  # no default secret
    assert env["CRM_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert crm["depends_on"]["postgres"]["condition"] == "service_healthy"
    dockerfile = (ROOT / crm["build"]["dockerfile"]).read_text()
    assert dockerfile.startswith("#") and "FROM python:3.12-slim" in dockerfile
    assert "uv sync --frozen" in dockerfile and "crm db upgrade" in dockerfile


def test_compose_runs_the_assistant_on_postgres_redis_and_rabbitmq():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"rasa", "actions", "events"}
    rasa = services["rasa"]
    assert "bot/endpoints.production.yml" in rasa["command"]
    assert any(c.startswith("${RASA_TOKEN:?") for c in rasa["command"])  # no default token
    assert {"postgres", "redis", "rabbitmq", "actions"} <= set(rasa["depends_on"])
    assert services["actions"]["environment"]["CRM_API_KEY"].startswith("${ASSISTANT_API_KEY:?")
    assert services["events"]["environment"]["CRM_EVENTS_SOURCE"].startswith("amqp://")
    assert services["crm"]["environment"]["CRM_RASA_URL"] == "http://rasa:5005"
    production = yaml.safe_load((ROOT / "bot/endpoints.production.yml").read_text())
    assert production["tracker_store"]["dialect"] == "postgresql"
    assert production["lock_store"]["type"] == "redis"
    assert production["event_broker"]["type"] == "pika"
    dockerfile = (ROOT / "Dockerfile.bot").read_text()
    assert "FROM python:3.10-slim" in dockerfile and "uv sync --frozen" in dockerfile
