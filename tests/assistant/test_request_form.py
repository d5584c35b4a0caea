"""Logic of the request form and the outbox, without the servers."""

import asyncio

import pytest

from actions import crm, outbox
from actions.request_form import (
    normalize_order_number,
    normalize_ticket_number,
    parse_address,
    required_for,
)


@pytest.mark.parametrize("text, number", [
    ("ORD-000123", "ORD-000123"), ("ord 123", "ORD-000123"), ("it's ord-42 thanks", "ORD-000042"),
    ("123", None), ("order one", None), ("TCK-000045", None)])
def test_order_numbers(text, number):
    assert normalize_order_number(text) == number


def test_ticket_numbers():
    assert normalize_ticket_number("tck 45") == "TCK-000045"
    assert normalize_ticket_number("ORD-000045") is None


def test_unverified_customers_are_asked_to_verify_first():
    assert required_for("order_status", False, None) == ["email", "order_number"]
    assert required_for("order_status", True, None) == ["order_number"]
    assert required_for("delete_account", False, None) == ["email", "order_number", "confirmed"]
    assert required_for("update_account", True, None) == ["account_field", "new_value"]


def test_anyone_may_complain_with_a_contact_email():
    assert required_for("complaint", False, None) == ["problem_description", "email"]
    assert required_for("complaint", True, None) == ["problem_description"]


def test_ineligible_orders_skip_the_questions():
    assert required_for("cancel_order", True, "shipped") == ["order_number"]
    assert required_for("cancel_order", True, "paid") == ["order_number", "confirmed"]
    assert required_for("return_refund", True, "paid") == ["order_number"]
    assert required_for("return_refund", True, "delivered") == [
        "order_number", "return_reason", "confirmed"]


def test_no_request_no_questions():
    assert required_for(None, True, None) == []
    assert required_for("something_else", False, None) == []


def test_addresses():
    assert parse_address("Hauptstrasse 5, 10115 Berlin, de") == {
        "line1": "Hauptstrasse 5", "line2": None, "postal_code": "10115", "city": "Berlin",
        "country": "DE"}
    assert parse_address("Flat 2, 1 Rue Neuve, 75001 Paris, FR")["line2"] == "1 Rue Neuve"
    for bad in ("Berlin", "Hauptstrasse, 10115 Berlin, DE", "Hauptstrasse 5, Berlin, DE",
                "Hauptstrasse 5, 10115 Berlin, Germany"):
        assert parse_address(bad) is None


def test_outbox_keeps_requests_until_the_crm_takes_them(tmp_path, monkeypatch):
    """The CRM is a real closed port here: nothing listens, so every send fails to connect."""
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.db"))
    monkeypatch.setenv("CRM_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(crm, "BACKOFF_SECONDS", 0.01)
    body = {"subject": "x"}
    assert asyncio.run(outbox.send_or_store("POST", "/tickets", body, "key-1")) is None
    assert asyncio.run(outbox.send_or_store("POST", "/tickets", body, "key-1")) is None
    assert [row[1] for row in outbox.pending()] == ["key-1"]  # stored once per key
    assert asyncio.run(outbox.deliver_pending()) == 0
    assert len(outbox.pending()) == 1
