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
