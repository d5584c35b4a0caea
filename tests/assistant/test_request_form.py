"""Logic of the request form and the outbox, without the servers."""

import asyncio

import pytest
from rasa_sdk import Tracker

from actions import crm, outbox
from actions.request_form import (
    is_bare_answer,
    normalize_order_number,
    normalize_ticket_number,
    parse_address,
    required_for,
    restore_request,
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


@pytest.mark.parametrize("text, asked, bare", [
    ("locked.test-3f9a0c@example.com", "email", True), ("it's jo@shop.de", "email", True),
    ("ORD-999999", "order_number", True), ("the number is ord 12", "order_number", False),
    ("I want to cancel ORD-000123 please", "order_number", False),
    ("jo@shop.de", "order_number", False), ('/report_problem{"email": "a@b.de"}', "email", False)])
def test_bare_answers(text, asked, bare):
    assert is_bare_answer(text, asked) is bare


def _tracker(text: str, asked: str, request_now: str) -> Tracker:
    events = [{"event": "user", "text": "/order_status"},
              {"event": "slot", "name": "request", "value": "order_status"},
              {"event": "user", "text": text},
              {"event": "slot", "name": "request", "value": request_now}]
    return Tracker("s", {"request": request_now, "requested_slot": asked},
                   {"text": text, "intent": {"name": request_now}}, events, False, None,
                   {"name": "request_form"}, "action_listen")


def test_an_answer_read_as_another_request_keeps_the_request():
    tracker = _tracker("x7.kk2@gmx.de", "email", "report_problem")
    assert restore_request(tracker) == {"request": "order_status"}
    assert tracker.get_slot("request") == "order_status"
    # A message that says more than the answer may switch the request.
    assert restore_request(_tracker("please cancel ORD-000123 instead", "order_number",
                                    "cancel_order")) == {}


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
