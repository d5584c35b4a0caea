"""action_handle_request: carries out the request the form collected, through the CRM."""

from datetime import date

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import crm
from actions.conversation import customer_id
from actions.formats import day, format_order_status
from actions.handoff import hand_over
from actions.promotions import bought_together
from actions.request_form import (
    ELIGIBLE,
    OPEN_TO_ANYONE,
    REQUEST_SLOTS,
    normalize_order_number,
    parse_address,
    verify_pair,
)
from actions.tickets import open_ticket

NOT_ELIGIBLE = {
    "cancel_order": "{number} can't be cancelled any more: it's {state}. Once it's delivered "
                    "you can return it within 30 days.",
    "change_shipping_address": "The address of {number} can't be changed any more: it's "
                               "{state}. If there's a problem with the delivery, tell me and "
                               "I'll open a ticket.",
    "return_refund": "{number} can be returned once it's delivered; right now it's {state}.",
}


class ActionHandleRequest(Action):
    def name(self) -> str:
        return "action_handle_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain):
        request = tracker.get_slot("request")
        handler = getattr(self, f"_{request}", None) if request else None
        events = await self._ensure_identity(dispatcher, tracker) if handler else []
        if handler is not None and not self._ready(request, tracker):
            # The form ends early when verification failed; nothing to carry out then.
            handler = None
        if handler is not None:
            try:
                events = await handler(dispatcher, tracker) or []
            except crm.CrmUnavailable:
                dispatcher.utter_message(response="utter_crm_unavailable")
            else:
                if not any(e.get("event") == "pause" for e in events):
                    dispatcher.utter_message(response="utter_anything_else")
        return events + [SlotSet(s, None) for s in REQUEST_SLOTS]

    @staticmethod
    async def _ensure_identity(dispatcher, tracker: Tracker) -> list:
        """Values given before the form started (e.g. both in the first message) were never
        checked by the form: check them here. Identity still comes only from the CRM."""
        request = tracker.get_slot("request")
        email, number = tracker.get_slot("email"), tracker.get_slot("order_number")
        if customer_id(tracker) is not None or request in OPEN_TO_ANYONE or not (
                email and normalize_order_number(number)):
            return []
        slots = await verify_pair(dispatcher, tracker, email, normalize_order_number(number))
        tracker.slots.update(slots)
        return [SlotSet(name, value) for name, value in slots.items()]

    @staticmethod
    def _ready(request: str, tracker: Tracker) -> bool:
        if request in OPEN_TO_ANYONE:
            return True
        if customer_id(tracker) is None:
            return False
        needs_order = request not in ("update_account", "delete_account",
                                      "newsletter_subscription", "ticket_status")
        return not needs_order or tracker.get_slot("order_id") is not None

    # --- orders -------------------------------------------------------------------------

    @staticmethod
    async def _order(tracker: Tracker) -> dict:
        return await crm.get(f"/orders/{int(tracker.get_slot('order_id'))}")

    @staticmethod
    def _blocked(dispatcher, request: str, order: dict) -> bool:
        if order["status"] in ELIGIBLE[request]:
            return False
        dispatcher.utter_message(text=NOT_ELIGIBLE[request].format(
            number=order["number"], state=order["status"].replace("_", " ")))
        return True

    async def _order_status(self, dispatcher, tracker):
        order = await self._order(tracker)
        dispatcher.utter_message(text=format_order_status(order))
        suggestion = await bought_together(order)
        if suggestion:
            dispatcher.utter_message(text=suggestion)
        return [SlotSet("order_state", order["status"])]

    async def _cancel_order(self, dispatcher, tracker):
        order = await self._order(tracker)
        if self._blocked(dispatcher, "cancel_order", order):
            return [SlotSet("order_state", order["status"])]
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text=f"OK, I've left {order['number']} as it is.")
            return []
        try:
            order = await crm.request("POST", f"/orders/{order['id']}/transitions",
                                      json={"to": "cancelled",
                                            "reason": "Cancelled by the customer in chat"},
                                      retry=True)
        except crm.CrmRejected as exc:
            dispatcher.utter_message(text=f"I couldn't cancel {order['number']}: {exc.message}")
            return []
        dispatcher.utter_message(text=f"Done: {order['number']} is cancelled. If you already "
                                      "paid, the money goes back to you within 5 working days.")
        return [SlotSet("order_state", order["status"])]

    async def _return_refund(self, dispatcher, tracker):
        order = await self._order(tracker)
        if self._blocked(dispatcher, "return_refund", order):
            return [SlotSet("order_state", order["status"])]
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text=f"OK, no return registered for {order['number']}.")
            return []
        reason = tracker.get_slot("return_reason")
        try:
            order = await crm.request("POST", f"/orders/{order['id']}/transitions",
                                      json={"to": "return_requested", "reason": reason},
                                      retry=True)
        except crm.CrmRejected as exc:
            dispatcher.utter_message(text=f"I can't register a return for {order['number']}: "
                                          f"{exc.message}")
            return []
        await open_ticket(dispatcher, tracker, category="return_refund",
                          subject=f"Return of {order['number']}",
                          description=f"Return requested in chat. Reason: {reason}",
                          order_id=order["id"],
                          done=f"Your return of {order['number']} is registered (ticket "
                               "{number}). We'll email you a return label; the refund follows "
                               "once the parcel is back with us.")
        return [SlotSet("order_state", order["status"])]

    async def _delivery_problem(self, dispatcher, tracker):
        order = await self._order(tracker)
        expected = order.get("expected_delivery")
        overdue = (order["status"] in ("pending", "paid", "shipped") and expected
                   and date.fromisoformat(expected) < date.today())
        if order["status"] in ("pending", "paid", "shipped") and not overdue:
            dispatcher.utter_message(text=format_order_status(order) + "\nIt's still on "
                                     "schedule. If it hasn't arrived by then, tell me and I'll "
                                     "open a ticket straight away.")
            return []
        problem = tracker.get_slot("problem_description")
        late = f" It was due on {day(expected)}." if overdue else ""
        await open_ticket(dispatcher, tracker, category="delivery_problem",
                          subject=f"Delivery problem with {order['number']}",
                          description=f"{problem}\n(order status: {order['status']}"
                                      f"{', overdue' if overdue else ''})",
                          order_id=order["id"],
                          done="I've opened ticket {number} for our delivery team." + late +
                               " They'll contact the carrier and get back to you by email.")

    async def _change_shipping_address(self, dispatcher, tracker):
        order = await self._order(tracker)
        if self._blocked(dispatcher, "change_shipping_address", order):
            return [SlotSet("order_state", order["status"])]
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text=f"OK, {order['number']} keeps its address.")
            return []
        address = parse_address(tracker.get_slot("new_address") or "")
        try:
            await crm.request("PATCH", f"/orders/{order['id']}",
                              json={"shipping_address": address}, retry=True)
        except crm.CrmRejected as exc:
            dispatcher.utter_message(text=f"I couldn't change the address: {exc.message}")
            return []
        dispatcher.utter_message(text=f"Done: {order['number']} will go to {address['line1']}, "
                                      f"{address['postal_code']} {address['city']}, "
                                      f"{address['country']}.")

    async def _payment_problem(self, dispatcher, tracker):
        order = await self._order(tracker)
        await open_ticket(dispatcher, tracker, category="payment_problem",
                          subject=f"Payment problem with {order['number']}",
                          description=tracker.get_slot("problem_description"),
                          order_id=order["id"],
                          done="I've opened ticket {number} for our payments team. They'll "
                               "check it and reply by email, usually within one working day.")

    async def _invoice_request(self, dispatcher, tracker):
        order_id = int(tracker.get_slot("order_id"))
        try:
            invoice = await crm.get(f"/orders/{order_id}/invoice")
        except crm.CrmRejected as exc:
            if exc.status != 409:
                raise
            dispatcher.utter_message(text="There's no invoice for this order yet: we issue it "
                                          "once the order is paid.")
            return
        dispatcher.utter_message(
            text=f"Invoice {invoice['number']} for {invoice['order_number']}, "
                 f"{day(invoice['issued_at'])}: {invoice['total']} {invoice['currency']} "
                 f"(incl. {invoice['vat_included']} VAT).\n"
                 f"Download it here (the link works for 7 days): {invoice['url']}")

    # --- account ------------------------------------------------------------------------

    async def _update_account(self, dispatcher, tracker):
        field, value = tracker.get_slot("account_field"), tracker.get_slot("new_value")
        column = {"email": "email", "phone": "phone", "name": "name"}[field]
        try:
            await crm.request("PATCH", f"/customers/{customer_id(tracker)}",
                              json={column: value}, retry=True)
        except crm.CrmRejected as exc:
            reason = ("another account already uses that email address" if exc.status == 409
                      else exc.message)
            dispatcher.utter_message(text=f"I couldn't change it: {reason}.")
            return []
        dispatcher.utter_message(text=f"Done: your {field} is now {value}.")
        if field == "email":
            # The verified identity was tied to the old address: prove it again next time.
            dispatcher.utter_message(text="Next time you ask about an order, please verify "
                                          "with your new email address.")
            return [SlotSet("customer_verified", False), SlotSet("customer_id", None),
                    SlotSet("email", None)]
        return []

    async def _delete_account(self, dispatcher, tracker):
        if not tracker.get_slot("confirmed"):
            dispatcher.utter_message(text="OK, your account stays as it is.")
            return
        await open_ticket(dispatcher, tracker, category="delete_account",
                          subject="GDPR erasure request",
                          description="The customer asked in chat to delete their account and "
                                      "personal data (GDPR Art. 17).",
                          done="I've passed your deletion request to our privacy team (ticket "
                               "{number}). They'll confirm by email within 30 days, as the law "
                               "requires.")

    async def _newsletter_subscription(self, dispatcher, tracker):
        opt_in = bool(tracker.get_slot("newsletter_opt_in"))
        await crm.request("PATCH", f"/customers/{customer_id(tracker)}",
                          json={"marketing_consent": opt_in}, retry=True)
        dispatcher.utter_message(text="You're subscribed to our newsletter. You can unsubscribe "
                                      "at any time." if opt_in else
                                      "You're unsubscribed: no more marketing emails from us.")

    # --- support ------------------------------------------------------------------------

    async def _ticket_status(self, dispatcher, tracker):
        number = tracker.get_slot("ticket_number")
        ticket = await crm.first("/tickets", number=number, customer_id=customer_id(tracker))
        if ticket is None:
            dispatcher.utter_message(text=f"I can't find {number} among your tickets. Could "
                                          "you check the number?")
            return
        state = {"new": "received and waiting for our team", "open": "being worked on",
                 "pending": "waiting for an answer from you", "escalated":
                 "with a senior colleague", "resolved": "resolved", "closed": "closed"}
        dispatcher.utter_message(text=f"{ticket['number']} ({ticket['subject']}) is "
                                      f"{state.get(ticket['status'], ticket['status'])}; last "
                                      f"update {day(ticket['updated_at'])}.")

    async def _complaint(self, dispatcher, tracker):
        return await self._support_ticket(dispatcher, tracker, "complaint", "Complaint")

    async def _report_problem(self, dispatcher, tracker):
        return await self._support_ticket(dispatcher, tracker, "report_problem",
                                          "Problem report")

    @staticmethod
    async def _support_ticket(dispatcher, tracker, category: str, label: str):
        description = tracker.get_slot("problem_description")
        if customer_id(tracker) is None:
            description += f"\n\nContact email (not verified): {tracker.get_slot('email')}"
        ticket = await open_ticket(
            dispatcher, tracker, category=category,
            subject=f"{label}: {tracker.get_slot('problem_description')[:80]}",
            description=description,
            order_id=tracker.get_slot("order_id") if customer_id(tracker) else None,
            done="Thank you for telling us. I've opened ticket {number}; our team will look at "
                 "it and reply by email.")
        if ticket is not None and ticket["status"] == "escalated":
            return await hand_over(dispatcher, tracker,
                                   "The customer is waiting in the chat for a person.")
        return []
