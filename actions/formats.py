"""How CRM records read in a chat message."""

from datetime import date, datetime

STATUS_WORDS = {
    "pending": "waiting for payment",
    "paid": "paid and being prepared for shipping",
    "shipped": "on its way",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "return_requested": "registered for return",
    "returned": "returned to us",
    "refunded": "refunded",
}


def day(value: str | None) -> str:
    if not value:
        return ""
    parsed = (date.fromisoformat(value) if len(value) == 10
              else datetime.fromisoformat(value.replace("Z", "+00:00")).date())
    return parsed.strftime("%a %d %b %Y")


def format_order_line(order: dict) -> str:
    items = ", ".join(f"{i['quantity']} x {i['name']}" for i in order.get("items", []))
    return (f"{order['number']}: {items} — {order['total']} {order['currency']}, "
            f"{STATUS_WORDS.get(order['status'], order['status'])}")


def format_order_status(order: dict) -> str:
    lines = [format_order_line(order)]
    if order["status"] == "shipped":
        if order.get("carrier") and order.get("tracking_number"):
            lines.append(f"Carrier: {order['carrier']}, tracking number "
                         f"{order['tracking_number']}.")
        if order.get("expected_delivery"):
            lines.append(f"Expected delivery: {day(order['expected_delivery'])}.")
    elif order["status"] == "delivered" and order.get("delivered_at"):
        lines.append(f"Delivered on {day(order['delivered_at'])}.")
    elif order["status"] in ("pending", "paid") and order.get("expected_delivery"):
        lines.append(f"Expected delivery: {day(order['expected_delivery'])}.")
    return "\n".join(lines)
