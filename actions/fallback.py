"""The first stage of the two-stage fallback: instead of a bare "did you mean X?", offer the
few likeliest requests as buttons, plus a way out."""

from rasa_sdk import Action

LABELS = {
    "order_status": "Check an order", "cancel_order": "Cancel an order",
    "return_refund": "Return or refund", "delivery_problem": "A delivery problem",
    "change_shipping_address": "Change the delivery address",
    "payment_problem": "A payment problem", "invoice_request": "Get an invoice",
    "update_account": "Change my account details", "delete_account": "Delete my account",
    "newsletter_subscription": "Newsletter", "complaint": "Make a complaint",
    "report_problem": "Report a problem", "ticket_status": "Check a ticket",
    "human_handoff": "Talk to a person", "promotions": "Current offers",
    "faq": "A general question",
}
SUGGESTIONS = 3


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker, domain):
        ranking = (tracker.latest_message or {}).get("intent_ranking", [])
        likely = [r["name"] for r in ranking if r.get("name") in LABELS][:SUGGESTIONS]
        buttons = [{"title": LABELS[name], "payload": f"/{name}"} for name in likely]
        buttons.append({"title": "Something else", "payload": "/out_of_scope"})
        dispatcher.utter_message(text="I'm not sure I understood. Did you mean one of these?",
                                 buttons=buttons)
        return []
