"""Property tests of the ticket status machine."""

from hypothesis import given
from hypothesis import strategies as st

from crm_backend.core.errors import InvalidTransition
from crm_backend.tickets import flows
from crm_backend.tickets.models import TicketStatus as S


@given(st.lists(st.sampled_from(list(S)), max_size=40))
def test_walks_follow_the_table_and_closed_is_final(targets):
    current = S.new
    for target in targets:
        try:
            flows.check_transition(current, target)
        except InvalidTransition as exc:
            assert target not in flows.TRANSITIONS[current]
            assert exc.details["allowed"] == [s.value for s in flows.allowed_next(current)]
            continue
        assert current != S.closed
        current = target


def test_every_state_but_closed_can_still_be_closed_and_reopening_is_only_from_resolved():
    for status in S:
        assert (S.closed in flows.TRANSITIONS[status]) == (status != S.closed)
        assert status not in flows.TRANSITIONS[status]
    assert [s for s in S if S.open in flows.TRANSITIONS[s] and s not in
            (S.new, S.pending, S.escalated)] == [S.resolved]
