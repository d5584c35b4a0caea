"""Offers for the customer in chat: the CRM picks them (public ones for anonymous visitors,
targeted ones for verified customers outside the control group) and records the impression."""

from rasa_sdk import Action

from actions import crm
from actions.conversation import customer_id
from actions.formats import day


class ActionPromotions(Action):
    def name(self) -> str:
        return "action_promotions"

    async def run(self, dispatcher, tracker, domain):
        cid = customer_id(tracker)
        try:
            offers = await crm.request("POST", "/offers/show",
                                       json={"customer_id": cid} if cid else {}, retry=True)
        except crm.CrmUnavailable:
            dispatcher.utter_message(text="I can't load our current offers right now; please "
                                          "try again in a few minutes.")
            return []
        if not offers:
            dispatcher.utter_message(text="There are no offers running right now. Our "
                                          "newsletter is the first to know when there are.")
            return []
        lines = []
        for offer in offers[:5]:
            line = f"• {offer['name']}"
            if offer.get("description"):
                line += f": {offer['description']}"
            if offer.get("offer_code"):
                line += f" (code {offer['offer_code']})"
            if offer.get("ends_at"):
                line += f", until {day(offer['ends_at'])}"
            lines.append(line)
        intro = "Here are your current offers:" if cid else (
            "Here are our current offers. Verified customers may see personal ones too:")
        dispatcher.utter_message(text="\n".join([intro, *lines]))
        return []
