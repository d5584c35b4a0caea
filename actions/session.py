"""Session start: a shop page that knows its logged-in customer passes a token the CRM signed
(web chat metadata `customer_token`); the CRM checks it before the customer counts as
verified. Anything else in the metadata is ignored."""

from rasa_sdk import Action
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from actions import crm
from actions.conversation import channel_identity


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker, domain):
        events = [SessionStarted()]
        metadata = tracker.get_slot("session_started_metadata") or {}
        token = metadata.get("customer_token") if isinstance(metadata, dict) else None
        if isinstance(token, str) and token:
            try:
                result = await crm.request("POST", "/identity/verify-token", json={
                    "token": token[:2000], "conversation": channel_identity(tracker)})
            except (crm.CrmUnavailable, crm.CrmRejected):
                result = {"verified": False}
            if result.get("verified"):
                customer = result["customer"]
                events += [SlotSet("customer_id", customer["id"]),
                           SlotSet("customer_name", customer["name"]),
                           SlotSet("customer_verified", True)]
        return events + [ActionExecuted("action_listen")]
