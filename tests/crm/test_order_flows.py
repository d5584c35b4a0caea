"""Property tests of the order status machine, alone and through the HTTP API."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm_backend.core.errors import InvalidTransition
from crm_backend.orders import flows
from crm_backend.orders.models import Order
from crm_backend.orders.models import OrderStatus as S
from tests.crm import factories

DELIVERED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
statuses = st.sampled_from(list(S))


def _walk(targets, window=30, now_offset=timedelta(days=1)):
    """Apply each target in turn, keeping the legal ones; returns the visited path."""
    path, delivered_at = [S.pending], None
    for target in targets:
        now = (delivered_at or DELIVERED) + now_offset
        try:
            flows.check_transition(path[-1], target, delivered_at=delivered_at, now=now,
                                   window_days=window)
        except InvalidTransition as exc:
            assert exc.details["allowed"] == [s.value for s in flows.allowed_next(path[-1])]
            assert target not in flows.TRANSITIONS[path[-1]]
            continue
        if target is S.delivered:
            delivered_at = DELIVERED
        path.append(target)
    return path


@given(st.lists(statuses, max_size=30))
def test_walks_follow_the_table(targets):
    path = _walk(targets)
    for a, b in zip(path, path[1:], strict=False):
        assert b in flows.TRANSITIONS[a]
    if S.cancelled in path:
        assert S.shipped not in path[: path.index(S.cancelled)]
        assert path[-1] is S.cancelled
    if S.refunded in path:
        assert path.index(S.returned) < path.index(S.refunded)
    assert len(path) == len(set(path))  # no status is entered twice


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_error_lists_exactly_the_allowed_statuses(current, target):
    try:
        flows.check_transition(current, target, delivered_at=DELIVERED, now=DELIVERED,
                               window_days=30)
    except InvalidTransition as exc:
        assert set(exc.details["allowed"]) == {s.value for s in flows.TRANSITIONS[current]}
        assert target not in flows.TRANSITIONS[current]
    except flows.ReturnWindowClosed:
        pytest.fail("inside the window")
    else:
        assert target in flows.TRANSITIONS[current]


@given(st.integers(min_value=1, max_value=90), st.integers(min_value=-10**6, max_value=10**6))
def test_return_window_boundary(window, offset_seconds):
    now = DELIVERED + timedelta(days=window, seconds=offset_seconds)
    try:
        flows.check_transition(S.delivered, S.return_requested, delivered_at=DELIVERED,
                               now=now, window_days=window)
        accepted = True
    except flows.ReturnWindowClosed:
        accepted = False
    assert accepted == (offset_seconds <= 0)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(targets=st.lists(statuses, min_size=1, max_size=8))
def test_api_status_always_matches_the_model(manager, agent, session, targets):
    cust = factories.customer(agent)
    prod = factories.product(manager)
    oid = factories.order(agent, cust["id"], [{"sku": prod["sku"], "quantity": 1}])["id"]
    model = S.pending
    for target in targets:
        resp = agent.post(f"/api/v1/orders/{oid}/transitions",
                          json={"to": target, "carrier": "DHL", "tracking_number": "T1",
                                "reason": "changed my mind"})
        if target in flows.TRANSITIONS[model]:
            assert resp.status_code == 200, resp.text
            model = target
        else:
            assert resp.status_code == 409
        session.expire_all()
        assert session.scalar(select(Order.status).where(Order.id == oid)) == model
