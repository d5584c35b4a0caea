"""The ticket status machine, as pure functions.

    new -> open | pending | escalated | resolved | closed
    open, pending, escalated -> any other of open / pending / escalated, resolved, closed
    resolved -> open (reopened) | closed
    closed is final.
"""

from crm_backend.core.errors import InvalidTransition
from crm_backend.tickets.models import TicketStatus as S

_ACTIVE = {S.open, S.pending, S.escalated}
TRANSITIONS: dict[S, frozenset[S]] = {
    S.new: frozenset(_ACTIVE | {S.resolved, S.closed}),
    **{s: frozenset((_ACTIVE - {s}) | {S.resolved, S.closed}) for s in _ACTIVE},
    S.resolved: frozenset({S.open, S.closed}),
    S.closed: frozenset(),
}


def allowed_next(status: S) -> list[S]:
    return [s for s in S if s in TRANSITIONS[S(status)]]


def check_transition(current: S, target: S) -> None:
    current, target = S(current), S(target)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"A ticket that is {current} cannot become {target}.",
            **{"from": current.value, "to": target.value,
               "allowed": [s.value for s in allowed_next(current)]})
