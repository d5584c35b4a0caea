"""The order status machine, as pure functions (no database), so it can be property-tested.

    pending -> paid -> shipped -> delivered -> return_requested -> returned -> refunded
    pending | paid -> cancelled          (never once the parcel has left)

A return may be requested until `window_days` after delivery, inclusive: delivered at
10:00 on 1 March with a 30-day window, a request at 10:00 on 31 March is accepted and one a
second later is refused.
"""

from datetime import datetime, timedelta

from crm_backend.core.errors import Conflict, InvalidTransition
from crm_backend.orders.models import OrderStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.pending: frozenset({S.paid, S.cancelled}),
    S.paid: frozenset({S.shipped, S.cancelled}),
    S.shipped: frozenset({S.delivered}),
    S.delivered: frozenset({S.return_requested}),
    S.return_requested: frozenset({S.returned}),
    S.returned: frozenset({S.refunded}),
    S.refunded: frozenset(),
    S.cancelled: frozenset(),
}

# Which timestamp column records entry into each status.
TIMESTAMP_OF: dict[S, str] = {
    S.paid: "paid_at", S.shipped: "shipped_at", S.delivered: "delivered_at",
    S.return_requested: "return_requested_at", S.returned: "returned_at",
    S.refunded: "refunded_at", S.cancelled: "cancelled_at",
}


class ReturnWindowClosed(Conflict):
    code = "return_window_closed"


def allowed_next(status: S) -> list[S]:
    """The statuses reachable in one step, in lifecycle order."""
    return [s for s in S if s in TRANSITIONS[S(status)]]


def return_deadline(delivered_at: datetime | None, window_days: int) -> datetime | None:
    return delivered_at + timedelta(days=window_days) if delivered_at else None


def check_transition(current: S, target: S, *, delivered_at: datetime | None,
                     now: datetime, window_days: int) -> None:
    current, target = S(current), S(target)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"An order that is {current} cannot become {target}.",
            **{"from": current.value, "to": target.value,
               "allowed": [s.value for s in allowed_next(current)]})
    if target == S.return_requested:
        deadline = return_deadline(delivered_at, window_days)
        if deadline is None or now > deadline:
            raise ReturnWindowClosed(
                f"Returns are accepted up to {window_days} days after delivery; "
                f"this order was delivered on {delivered_at:%Y-%m-%d}.",
                delivered_at=delivered_at.isoformat() if delivered_at else None,
                deadline=deadline.isoformat() if deadline else None,
                window_days=window_days)
