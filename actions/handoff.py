"""Handing a conversation to a person: the CRM escalates the conversation's ticket (or opens
one) with the transcript, and answers with the queue position and expected wait."""

import logging

from rasa_sdk import Action, FormValidationAction
from rasa_sdk.events import ConversationPaused, SlotSet, UserUtteranceReverted

from actions import crm, outbox
from actions.conversation import channel_identity, customer_id, request_key, transcript

log = logging.getLogger(__name__)


async def hand_over(dispatcher, tracker, reason: str) -> list:
    """Escalate to a person, tell the customer the queue position and wait, and pause."""
    body = {"conversation": channel_identity(tracker), "reason": reason,
            "transcript": transcript(tracker)}
    cid = customer_id(tracker)
    if cid is not None:
        body["customer_id"] = cid
    if tracker.get_slot("order_id") and cid is not None:
        body["order_id"] = int(tracker.get_slot("order_id"))
    # Escalating is safe to repeat (the CRM reuses the open ticket), so the outbox may
    # deliver it late without creating a second ticket.
    result = await outbox.send_or_store("POST", "/tickets/escalations", body,
                                        request_key(tracker, "handoff"))
    events = [SlotSet("request", None), ConversationPaused()]
    if result is None:
        dispatcher.utter_message(
            text="I can't reach our support system right now, but your request for a "
                 "person is saved and will reach the team as soon as it's back. Please "
                 "stay in this chat, or come back later: nothing you've told me is lost.")
    else:
        ticket, wait = result["ticket"], result["expected_wait_minutes"]
        when = (f"about {wait} minutes" if wait < 90
                else "until our team is back (Mon-Fri 09:00-18:00)")
        dispatcher.utter_message(
            text=f"I've passed our conversation to our support team (ticket "
                 f"{ticket['number']}). You're number {result['queue_position']} in the "
                 f"queue; the expected wait is {when}. A person will reply right here, "
                 f"and they can see everything we've discussed.")
        events.append(SlotSet("handoff_ticket", ticket["number"]))
    # Paused, the assistant stays silent while the customer's messages still reach the
    # CRM through the event broker; the CRM resumes it when the agent resolves.
    return events


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher, tracker, domain):
        asked = (tracker.latest_message or {}).get("intent", {}).get("name") == "human_handoff"
        return await hand_over(dispatcher, tracker,
                               "The customer asked for a person." if asked
                               else "The assistant could not help and offered a person.")


class ActionDefaultFallback(Action):
    """Replaces Rasa's default fallback, which runs in two places. When the two-stage
    fallback gives up, the customer was not understood twice in a row: a person takes over.
    When no dialogue policy is confident (core fallback), the assistant offers a person and
    forgets the message, as Rasa's own fallback does."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker, domain):
        if tracker.active_loop_name == "action_two_stage_fallback":
            dispatcher.utter_message(text="I'm sorry, I still couldn't follow you, so I'm "
                                          "asking a colleague to help.")
            return await hand_over(dispatcher, tracker,
                                   "The assistant did not understand the customer twice.")
        dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]


class ActionHandoffResolved(Action):
    def name(self) -> str:
        return "action_handoff_resolved"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="I'm back! Our team has marked your request as resolved. "
                                      "If anything is still open, just tell me.")
        return [SlotSet("csat_score", None)]


class ValidateCsatForm(FormValidationAction):
    def name(self) -> str:
        return "validate_csat_form"

    async def validate_csat_score(self, value, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()
        if text in {"1", "2", "3", "4", "5"}:
            return {"csat_score": float(text)}
        dispatcher.utter_message(text="Please answer with a number from 1 to 5.")
        return {"csat_score": None}


class ActionRecordCsat(Action):
    def name(self) -> str:
        return "action_record_csat"

    async def run(self, dispatcher, tracker, domain):
        score, number = tracker.get_slot("csat_score"), tracker.get_slot("handoff_ticket")
        if score is not None and number:
            try:
                ticket = await crm.first("/tickets", number=number)
                if ticket is not None:
                    await crm.request("POST", f"/tickets/{ticket['id']}/csat",
                                      json={"score": int(score)}, retry=True)
            except (crm.CrmUnavailable, crm.CrmRejected) as exc:
                # The conversation goes on either way; the score stays in the tracker.
                log.warning("CSAT %s for %s not recorded: %s", score, number, exc)
        dispatcher.utter_message(text="Thank you for your feedback!")
        return [SlotSet("handoff_ticket", None)]
