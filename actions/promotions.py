"""Offers for the customer in chat: the CRM picks them (public ones for anonymous visitors,
targeted ones for verified customers outside the control group) and records the impression.
After an order question, products often bought with what was ordered (association rules)."""

import logging

from rasa_sdk import Action

from actions import crm
from actions.conversation import customer_id
from actions.formats import day

log = logging.getLogger(__name__)
SUGGESTIONS = 2


async def bought_together(order: dict) -> str | None:
    """One line suggesting what customers often buy with this order's products, or None.
    A recommendation is a courtesy: when the CRM cannot answer, the order answer stands."""
    ordered = {item["product_id"] for item in order.get("items", [])}
    names: list[str] = []
    try:
        for item in order.get("items", [])[:3]:
            found = await crm.get(f"/products/{item['product_id']}/frequently-bought-together",
                                  limit=5)
            for other in found["items"]:
                if other["product_id"] not in ordered and other["name"] not in names:
                    names.append(other["name"])
    except (crm.CrmUnavailable, crm.CrmRejected) as exc:
        log.warning("No recommendations for %s: %s", order.get("number"), exc)
        return None
    if not names:
        return None
    return ("Customers who bought this often add: " + ", ".join(names[:SUGGESTIONS]) + ".")


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
