"""CSV import and export: validated row by row, all or nothing, streamed."""

import csv
import io
import time

from sqlalchemy import func, select
from typer.testing import CliRunner

from crm_backend.cli import app as cli
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order
from crm_backend.transfer.service import COLUMNS
from tests.crm import factories

HEADER = ",".join(COLUMNS["customers"])


def _csv(rows: list[list], entity="customers") -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS[entity])
    w.writerows(rows)
    return out.getvalue()


def _customer(email, name="N", **kw):
    row = {c: "" for c in COLUMNS["customers"]}
    row.update(email=email, name=name, **kw)
    return [row[c] for c in COLUMNS["customers"]]


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def _post(client, entity, text, **params):
    return client.post(f"/api/v1/import/{entity}", content=text.encode(), params=params,
                       headers={"Content-Type": "text/csv"})


def test_import_creates_and_updates(manager, session):
    factories.customer(manager, email="old@example.com", name="Old Name")
    body = _csv([_customer("old@example.com", "New Name", tags="a;B"),
                 _customer("new@example.com", "Newbie", phone="+49 30 123456",
                           address_line1="1 Way", city="Berlin", postal_code="10115",
                           country="DE", marketing_consent="true",
                           custom_attributes='{"vip": true}')])
    resp = _post(manager, "customers", body)
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"rejected": []} == {
        "entity": "customers", "dry_run": False, "rows": 2, "created": 1, "updated": 1,
        "rejected_count": 0, "rejected": []}
    new = manager.get("/api/v1/customers", params={"email": "new@example.com"}).json()["items"][0]
    assert new["address"]["city"] == "Berlin" and new["custom_attributes"] == {"vip": True}
    assert new["phone"] == "+4930123456" and new["marketing_consent"] is True
    old = manager.get("/api/v1/customers", params={"email": "old@example.com"}).json()["items"][0]
    assert old["name"] == "New Name" and old["tags"] == ["a", "b"]


def test_any_rejected_row_writes_nothing(manager, session):
    body = _csv([_customer("good@example.com"), _customer("not-an-email"),
                 _customer("x@example.com", custom_attributes="{broken"),
                 _customer("good@example.com")])
    resp = _post(manager, "customers", body)
    assert resp.status_code == 422
    report = resp.json()
    assert report["rejected_count"] == 3 and report["created"] == 1
    assert [r["line"] for r in report["rejected"]] == [3, 4, 5]
    assert "email" in report["rejected"][0]["errors"][0]
    assert "JSON" in report["rejected"][1]["errors"][0]
    assert "already appears on line 2" in report["rejected"][2]["errors"][0]
    assert _count(session, Customer) == 0


def test_dry_run_writes_nothing(manager, session):
    resp = _post(manager, "customers", _csv([_customer("a@example.com")]), dry_run="true")
    assert resp.status_code == 200 and resp.json()["created"] == 1
    assert _count(session, Customer) == 0


def test_wrong_header_is_rejected_up_front(manager):
    resp = _post(manager, "customers", "email,full_name\na@example.com,A\n")
    assert resp.status_code == 422
    details = resp.json()["error"]["details"]
    assert details["missing"][0] == "name" and details["unknown"] == ["full_name"]


def test_multipart_upload(manager, session):
    files = {"file": ("customers.csv", _csv([_customer("m@example.com")]), "text/csv")}
    resp = manager.post("/api/v1/import/customers", files=files)
    assert resp.status_code == 200 and resp.json()["created"] == 1


def test_orders_round_trip_and_duplicates(manager, agent, session):
    cust = factories.customer(agent, email="buyer@example.com")
    a, b = factories.product(manager, sku="RT-A"), factories.product(manager, sku="RT-B")
    first = factories.order(agent, cust["id"], [{"sku": "RT-A", "quantity": 2},
                                                {"sku": "RT-B", "quantity": 1}])
    exported = manager.get("/api/v1/export/orders.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == ",".join(COLUMNS["orders"]) and len(lines) == 3
    # Re-importing our own export is refused: the orders exist.
    again = _post(manager, "orders", exported.text)
    assert again.status_code == 422 and "already exists" in again.text
    # As another shop's file (new refs), it creates one order with both lines.
    foreign = exported.text.replace(first["number"], "SHOP-77")
    created = _post(manager, "orders", foreign)
    assert created.status_code == 200 and created.json()["created"] == 1
    order = session.scalar(select(Order).where(Order.external_ref == "SHOP-77"))
    assert order.total == __import__("decimal").Decimal(first["total"])
    assert sorted(i.sku for i in order.items) == ["RT-A", "RT-B"]
    assert _post(manager, "orders", foreign).status_code == 422  # same ref twice
    del a, b


def test_orders_with_unknown_references_are_rejected(manager, agent, session):
    row = {c: "" for c in COLUMNS["orders"]}
    row.update(order_ref="X-1", customer_email="ghost@example.com", placed_at="2026-01-05T10:00",
               sku="NOPE", quantity="1", unit_price="3.00")
    resp = _post(manager, "orders", _csv([[row[c] for c in COLUMNS["orders"]]], "orders"))
    assert resp.status_code == 422
    errors = resp.json()["rejected"][0]["errors"]
    assert any("ghost@example.com" in e for e in errors) and any("NOPE" in e for e in errors)
    assert _count(session, Order) == 0


def test_products_import_and_export(manager):
    body = _csv([["P-1", "Lamp", "home", "19.90", "true"], ["P-2", "Mug", "kitchen", "-1", ""]],
                "products")
    bad = _post(manager, "products", body)
    assert bad.status_code == 422 and bad.json()["rejected"][0]["line"] == 3
    good = _post(manager, "products", body.replace(",-1,", ",5.00,"))
    assert good.status_code == 200 and good.json()["created"] == 2
    text = manager.get("/api/v1/export/products.csv").text
    assert "P-1,Lamp,home,19.90,True" in text


def test_five_thousand_customers_and_streamed_export(manager, session):
    rows = [_customer(f"bulk{i}@example.com", f"Bulk {i}", tags="imported") for i in range(5000)]
    started = time.perf_counter()
    resp = _post(manager, "customers", _csv(rows))
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200 and resp.json()["created"] == 5000
    assert _count(session, Customer) == 5000
    assert elapsed < 120  # a guard against pathological slowness, not a benchmark
    with manager.stream("GET", "/api/v1/export/customers.csv") as stream:
        pieces = list(stream.iter_text())
    text = "".join(pieces)
    assert text.count("\n") == 5001 and len(pieces) > 5


def test_body_over_the_import_limit_is_413(manager, monkeypatch):
    from crm_backend.core import config

    monkeypatch.setattr(config.get_settings(), "max_import_bytes", 1000)
    from fastapi.testclient import TestClient

    from crm_backend.main import create_app

    client = TestClient(create_app(), headers=dict(manager.headers))
    resp = _post(client, "customers", HEADER + "\n" + "x" * 2000)
    assert resp.status_code == 413


def test_permissions(agent, analyst):
    assert _post(agent, "customers", HEADER + "\n").status_code == 403
    assert analyst.get("/api/v1/export/customers.csv").status_code == 200
    assert _post(analyst, "customers", HEADER + "\n").status_code == 403


def test_cli_import_and_export(engine, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(_csv([_customer("cli@example.com", "Cli")]))
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv([_customer("broken")]))
    refused = runner.invoke(cli, ["import", "customers", str(bad)])
    assert refused.exit_code == 1 and "line 2" in refused.output
    ok = runner.invoke(cli, ["import", "customers", str(src)])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "out.csv"
    assert runner.invoke(cli, ["export", "customers", str(out)]).exit_code == 0
    assert "cli@example.com" in out.read_text()
