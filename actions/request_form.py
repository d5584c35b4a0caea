"""The request form: one form for every self-service request. Which questions it asks
depends on the request and on whether the customer is verified yet; each answer is checked
here, against the CRM where it matters."""

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import crm
from actions.conversation import channel_identity, customer_id
from actions.formats import format_order_line

# What each request needs once the customer is verified.
NEEDS: dict[str, list[str]] = {
    "order_status": ["order_number"],
    "cancel_order": ["order_number", "confirmed"],
    "return_refund": ["order_number", "return_reason", "confirmed"],
    "delivery_problem": ["order_number", "problem_description"],
    "change_shipping_address": ["order_number", "new_address", "confirmed"],
    "payment_problem": ["order_number", "problem_description"],
    "invoice_request": ["order_number"],
    "update_account": ["account_field", "new_value"],
    "delete_account": ["confirmed"],
    "newsletter_subscription": ["newsletter_opt_in"],
    "ticket_status": ["ticket_number"],
    "complaint": ["problem_description"],
    "report_problem": ["problem_description"],
}
# Anyone may complain or report a problem; unverified customers leave a contact email.
OPEN_TO_ANYONE = {"complaint", "report_problem"}
# Order states in which each order request can go ahead; otherwise the form stops early and
# action_handle_request explains why.
ELIGIBLE = {
    "cancel_order": {"pending", "paid"},
    "change_shipping_address": {"pending", "paid"},
    "return_refund": {"delivered"},
}
# Slots a request fills; cleared when it is done (identity and the order number stay).
REQUEST_SLOTS = ["request", "confirmed", "return_reason", "problem_description", "new_address",
                 "account_field", "new_value", "newsletter_opt_in", "ticket_number"]

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ORDER = re.compile(r"\bord[- ]?(\d{1,12})\b", re.IGNORECASE)
TICKET = re.compile(r"\btck[- ]?(\d{1,12})\b", re.IGNORECASE)
PHONE = re.compile(r"^\+?[0-9][0-9 ()/.-]{5,22}[0-9]$")
UNSUBSCRIBE = re.compile(r"\b(unsub\w*|opt(ing)?[- ]?out|stop|no (more|longer)|remove me|"
                         r"don'?t (want|send)|cancel)\b", re.IGNORECASE)
SUBSCRIBE = re.compile(r"\b(subscribe|sign (me )?up|opt(ing)?[- ]?in|join|register)\b",
                       re.IGNORECASE)
MAX_FAILURES = 3


def normalize_order_number(text: str | None) -> str | None:
    match = ORDER.search(text or "")
    return f"ORD-{int(match.group(1)):06d}" if match else None


def normalize_ticket_number(text: str | None) -> str | None:
    match = TICKET.search(text or "")
    return f"TCK-{int(match.group(1)):06d}" if match else None


def required_for(request: str | None, verified: bool, order_state: str | None) -> list[str]:
    if request not in NEEDS:
        return []
    if not verified and request in OPEN_TO_ANYONE:
        return ["problem_description", "email"]
    needs = list(NEEDS[request])
    if not verified:
        needs = ["email", "order_number"] + [s for s in needs if s != "order_number"]
    allowed = ELIGIBLE.get(request)
    if allowed and order_state and order_state not in allowed:
        # Nothing more to ask: the order cannot go that way.
        needs = [s for s in needs if s in ("email", "order_number")]
    return needs


def is_bare_answer(text: str, asked: str | None) -> bool:
    """Whether a message is the email address or order number that was asked for, with at
    most two other words ("it's ORD-000123")."""
    pattern = {"email": EMAIL, "order_number": ORDER}.get(asked or "")
    if pattern is None or text.startswith("/") or not pattern.search(text):
        return False
    return len(re.findall(r"[^\W\d_]+", pattern.sub(" ", text))) <= 2


def restore_request(tracker: Tracker) -> dict:
    """An email address or order number typed in answer is an answer, whatever intent NLU
    read in it (addresses are arbitrary strings), so it must not switch the request. Rasa
    has already set the slot from the intent; this puts back the value it had before the
    message, in the tracker and as the slot to return."""
    if not is_bare_answer((tracker.latest_message or {}).get("text") or "",
                          tracker.get_slot("requested_slot")):
        return {}
    before = value_at_message = None
    for event in tracker.events:
        if event.get("event") == "user":
            value_at_message = before
        elif event.get("event") == "slot" and event.get("name") == "request":
            before = event.get("value")
    if value_at_message is None or value_at_message == tracker.get_slot("request"):
        return {}
    tracker.slots["request"] = value_at_message
    return {"request": value_at_message}


class ValidateRequestForm(FormValidationAction):
    def name(self) -> str:
        return "validate_request_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        return required_for(tracker.get_slot("request"), bool(customer_id(tracker)),
                            tracker.get_slot("order_state"))

    async def extract_newsletter_opt_in(self, dispatcher, tracker, domain) -> dict:
        """'Unsubscribe me' already says which way: no need to ask."""
        if (tracker.get_slot("request") != "newsletter_subscription"
                or tracker.get_slot("newsletter_opt_in") is not None
                or tracker.get_slot("requested_slot") == "newsletter_opt_in"):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        if text.startswith("/"):
            return {}
        if UNSUBSCRIBE.search(text):
            return {"newsletter_opt_in": False}
        if SUBSCRIBE.search(text):
            return {"newsletter_opt_in": True}
        return {}

    async def validate_email(self, value: Any, dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> dict:
        kept = restore_request(tracker)
        return {**await self._email(value, dispatcher, tracker), **kept}

    async def validate_order_number(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> dict:
        kept = restore_request(tracker)
        return {**await self._order_number(value, dispatcher, tracker), **kept}

    @staticmethod
    async def _email(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict:
        match = EMAIL.search(str(value or ""))
        if not match:
            dispatcher.utter_message(text="That doesn't look like an email address. "
                                          "Could you type it again, like name@example.com?")
            return {"email": None}
        email = match.group(0).lower()
        if tracker.get_slot("request") in OPEN_TO_ANYONE and not customer_id(tracker):
            return {"email": email}
        order_number = tracker.get_slot("order_number")
        if order_number and not customer_id(tracker):
            return await verify_pair(dispatcher, tracker, email, order_number)
        return {"email": email}

    @staticmethod
    async def _order_number(value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker) -> dict:
        number = normalize_order_number(str(value or ""))
        if not number:
            dispatcher.utter_message(text="Order numbers look like ORD-000123. Could you check "
                                          "it and type it again?")
            return {"order_number": None}
        cid = customer_id(tracker)
        if cid is None:
            email = tracker.get_slot("email")
            if not email:
                return {"order_number": number}
            return await verify_pair(dispatcher, tracker, email, number)
        try:
            order = await crm.first("/orders", number=number, customer_id=cid)
        except crm.CrmUnavailable:
            dispatcher.utter_message(response="utter_crm_unavailable")
            return {"order_number": None, "request": None}
        if order is None:
            dispatcher.utter_message(text=f"I can't find {number} on your account. Could you "
                                          "check the number?")
            return {"order_number": None}
        return {"order_number": number, "order_id": order["id"], "order_state": order["status"]}

    async def validate_ticket_number(self, value, dispatcher, tracker, domain) -> dict:
        number = normalize_ticket_number(str(value or ""))
        if not number:
            dispatcher.utter_message(text="Ticket numbers look like TCK-000045. Could you type "
                                          "it again?")
            return {"ticket_number": None}
        return {"ticket_number": number}

    async def validate_problem_description(self, value, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()
        if len(text) < 10 or len(text.split()) < 3:
            dispatcher.utter_message(text="Could you tell me a little more, in a sentence or "
                                          "two? It helps our team fix it faster.")
            return {"problem_description": None}
        return {"problem_description": text[:5000]}

    async def validate_return_reason(self, value, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()
        if len(text) < 3:
            dispatcher.utter_message(text="Please give a short reason for the return.")
            return {"return_reason": None}
        return {"return_reason": text[:500]}

    async def validate_new_address(self, value, dispatcher, tracker, domain) -> dict:
        address = parse_address(str(value or ""))
        if address is None:
            dispatcher.utter_message(text="I couldn't read that address. Please write it as: "
                                          "street and number, postcode and city, country code "
                                          "(e.g. Hauptstrasse 5, 10115 Berlin, DE).")
            return {"new_address": None}
        return {"new_address": value}

    async def validate_account_field(self, value, dispatcher, tracker, domain) -> dict:
        text = str(value or "").lower()
        for field, words in (("email", ("mail",)), ("phone", ("phone", "mobile", "number")),
                             ("name", ("name",))):
            if any(w in text for w in words):
                return {"account_field": field}
        dispatcher.utter_message(text="I can change your email address, phone number or name. "
                                      "Which one?")
        return {"account_field": None}

    async def validate_new_value(self, value, dispatcher, tracker, domain) -> dict:
        field, text = tracker.get_slot("account_field"), str(value or "").strip()
        if field == "email":
            match = EMAIL.search(text)
            if match:
                return {"new_value": match.group(0).lower()}
            dispatcher.utter_message(text="That doesn't look like an email address.")
        elif field == "phone":
            if PHONE.match(text):
                return {"new_value": text}
            dispatcher.utter_message(text="That doesn't look like a phone number. Please use "
                                          "digits, with the country code, e.g. +49 151 2345678.")
        elif 1 <= len(text) <= 200:
            return {"new_value": text}
        return {"new_value": None}


async def verify_pair(dispatcher, tracker, email: str, order_number: str) -> dict:
    """Ask the CRM whether the order belongs to the customer with this email; the slots to
    set either way (identity only when the CRM said yes)."""
    body = {"email": email, "order_number": order_number,
            "conversation": channel_identity(tracker)}
    try:
        result = await crm.request("POST", "/identity/verify-order", json=body)
    except crm.CrmUnavailable:
        dispatcher.utter_message(response="utter_crm_unavailable")
        return {"email": None, "order_number": None, "request": None}
    except crm.CrmRejected as exc:
        if exc.status == 429:  # the CRM's lock: too many failures for this chat or email
            return _give_up(dispatcher, MAX_FAILURES)
        result = {"verified": False, "attempts_left": MAX_FAILURES}
    if result["verified"]:
        customer = result["customer"]
        order = await crm.first("/orders", number=order_number, customer_id=customer["id"])
        first_name = customer["name"].split()[0]
        dispatcher.utter_message(text=f"Thanks, {first_name}, you're verified.")
        return {"email": email, "order_number": order_number, "customer_id": customer["id"],
                "customer_name": customer["name"], "customer_verified": True,
                "verification_failures": 0,
                "order_id": order and order["id"], "order_state": order and order["status"]}
    failures = (tracker.get_slot("verification_failures") or 0) + 1
    if result["attempts_left"] <= 0 or failures >= MAX_FAILURES:
        return _give_up(dispatcher, failures)
    dispatcher.utter_message(text="Sorry, I couldn't match that email address and order "
                                  "number. Let's try once more: what's the email on your "
                                  "account?")
    return {"email": None, "order_number": None, "verification_failures": failures}


def _give_up(dispatcher, failures) -> dict:
    dispatcher.utter_message(response="utter_verification_failed")
    return {"email": None, "order_number": None, "request": None,
            "verification_failures": failures}


POSTCODE_CITY = re.compile(r"^\s*(\d{4,6})\s+(.+?)\s*$")


def parse_address(text: str) -> dict | None:
    """'Street 5, 10115 Berlin, DE' -> the CRM's address shape; None if it does not fit."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 3 or not re.fullmatch(r"[A-Za-z]{2}", parts[-1]):
        return None
    match = POSTCODE_CITY.match(parts[-2])
    if not match or not re.search(r"\d", parts[0]):
        return None
    return {"line1": parts[0][:200], "line2": ", ".join(parts[1:-2])[:200] or None,
            "postal_code": match.group(1), "city": match.group(2)[:100],
            "country": parts[-1].upper()}


class AskConfirmed(Action):
    """The confirmation question names what will happen, so 'yes' means something."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(self, dispatcher, tracker, domain):
        request, number = tracker.get_slot("request"), tracker.get_slot("order_number")
        order_id = tracker.get_slot("order_id")
        summary = ""
        if order_id:
            try:
                summary = format_order_line(await crm.get(f"/orders/{int(order_id)}"))
            except (crm.CrmUnavailable, crm.CrmRejected):
                summary = number or ""
        question = {
            "cancel_order": f"Shall I cancel this order?\n{summary}",
            "return_refund": f"Shall I register a return for this order?\n{summary}\n"
                             f"Reason: {tracker.get_slot('return_reason')}",
            "change_shipping_address": f"Shall I send {number} to "
                                       f"{tracker.get_slot('new_address')}?",
            "delete_account": "Shall I ask our team to delete your account and personal data? "
                              "This can't be undone, and your order history will be "
                              "anonymised.",
        }.get(request, "Shall I go ahead?")
        dispatcher.utter_message(text=question, buttons=[
            {"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
        return []


class AskNewValue(Action):
    def name(self) -> str:
        return "action_ask_new_value"

    async def run(self, dispatcher, tracker, domain):
        field = tracker.get_slot("account_field") or "value"
        label = {"email": "email address", "phone": "phone number", "name": "name"}.get(
            field, field)
        dispatcher.utter_message(text=f"What's the new {label}?")
        return []
