"""Tickets the assistant opens for a customer. Every ticket goes through the outbox, so a CRM
outage never loses one: the customer is told honestly, and it is delivered later."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import outbox
from actions.conversation import channel_identity, customer_id, request_key, transcript

# Rasa channel name -> the CRM's ticket channel.
TICKET_CHANNELS = {"telegram": "telegram", "slack": "slack", "facebook": "facebook"}


def ticket_channel(tracker: Tracker) -> str:
    return TICKET_CHANNELS.get(tracker.get_latest_input_channel() or "", "chat")


async def open_ticket(dispatcher: CollectingDispatcher, tracker: Tracker, *, category: str,
                      subject: str, description: str, order_id: int | None = None,
                      done: str) -> dict | None:
    """Create the ticket and tell the customer; `done` is said with the ticket number. A
    ticket the CRM escalated at once (a high-value customer's complaint) is announced by the
    handoff to a person instead."""
    body = {"channel": ticket_channel(tracker), "subject": subject[:300],
            "description": description[:100_000], "author_kind": "customer",
            "category": category, "conversation": channel_identity(tracker),
            "transcript": transcript(tracker)}
    cid = customer_id(tracker)
    if cid is not None:
        body["customer_id"] = cid
    if order_id is not None:
        body["order_id"] = int(order_id)
    ticket = await outbox.send_or_store("POST", "/tickets", body,
                                        request_key(tracker, f"ticket:{category}"))
    if ticket is None:
        dispatcher.utter_message(
            text="I can't reach our ticket system right now, but I've saved your request and "
                 "it will be filed automatically as soon as the system is back. You don't "
                 "need to send it again.")
    elif ticket["status"] != "escalated":
        dispatcher.utter_message(text=done.format(number=ticket["number"]))
    return ticket
