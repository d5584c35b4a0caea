"""Proving who a chat customer is. The assistant never trusts what a customer types about
themselves; it asks the CRM, which checks an email against an order number, or a token it
signed itself.

Failed attempts are written to the audit log (action `identity.verify_failed`), and the log is
also the counter: after MAX_FAILURES in WINDOW for one conversation or one email, further
attempts are refused, so restarting the chat does not buy more guesses.
"""

import hashlib
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_backend.audit import service as audit
from crm_backend.audit.models import AuditEntry
from crm_backend.conversations import service as conversations
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, TooManyAttempts
from crm_backend.core.security import CUSTOMER_AUDIENCE, create_signed_token, read_signed_token
from crm_backend.customers import service as customers
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order, parse_number

MAX_FAILURES = 3
WINDOW = timedelta(minutes=15)
FAILED = "identity.verify_failed"
VERIFIED = "identity.verified"


def _key(kind: str, value: str) -> str:
    # Audit entity ids are short; the raw email or sender id is kept in `after`.
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _subjects(email: str | None, conversation: dict | None) -> list[str]:
    keys = [_key("email", email)] if email else []
    if conversation:
        keys.append(_key("chat", f"{conversation['channel']}:{conversation['sender_id']}"))
    return keys


def _recent_failures(session: Session, keys: list[str]) -> int:
    if not keys:
        return 0
    return max(session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == FAILED, AuditEntry.entity_type == "identity",
            AuditEntry.entity_id == key, AuditEntry.at >= utcnow() - WINDOW)) or 0
        for key in keys)


def _check_not_locked(session: Session, keys: list[str]) -> int:
    failures = _recent_failures(session, keys)
    if failures >= MAX_FAILURES:
        raise TooManyAttempts(
            "Too many failed verification attempts; try again later or contact support.",
            retry_after_minutes=int(WINDOW.total_seconds() // 60))
    return failures


def _fail(session: Session, keys: list[str], failures: int, details: dict) -> dict:
    for key in keys:
        audit.record(session, FAILED, "identity", key, after=details)
    session.flush()
    return {"verified": False, "customer": None,
            "attempts_left": max(0, MAX_FAILURES - failures - 1)}


def _succeed(session: Session, customer: Customer, conversation: dict | None,
             method: str) -> dict:
    audit.record(session, VERIFIED, "customers", customer.id, after={"method": method})
    if conversation:
        conversations.touch(session=session, customer_id=customer.id, **conversation)
    session.flush()
    return {"verified": True, "customer": customer, "attempts_left": MAX_FAILURES}


def verify_order(*, session: Session, email: str, order_number: str,
                 conversation: dict | None) -> dict:
    email = customers.normalize_email(email)
    keys = _subjects(email, conversation)
    failures = _check_not_locked(session, keys)
    order_id = parse_number(order_number.strip().upper().replace(" ", "-"))
    customer = customers.get_by_email(session=session, email=email)
    owns = (customer is not None and customer.erased_at is None and order_id is not None
            and session.scalar(select(Order.id).where(Order.id == order_id,
                                                      Order.customer_id == customer.id)))
    if not owns:
        # One answer for "no such email" and "not your order", so neither can be probed.
        return _fail(session, keys, failures, {"method": "order", "email": email,
                                               "order_number": order_number[:30],
                                               "conversation": conversation})
    return _succeed(session, customer, conversation, "order")


def verify_token(*, session: Session, token: str, conversation: dict | None) -> dict:
    keys = _subjects(None, conversation)
    failures = _check_not_locked(session, keys)
    customer_id = read_signed_token(CUSTOMER_AUDIENCE, token)
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None or customer.erased_at is not None:
        return _fail(session, keys, failures, {"method": "token", "conversation": conversation})
    return _succeed(session, customer, conversation, "token")


def issue_token(*, session: Session, customer_id: int, minutes: int) -> dict:
    customer = customers.get(session=session, customer_id=customer_id)
    if customer.erased_at is not None:
        raise Conflict("This customer was erased (GDPR).")
    token, expires = create_signed_token(CUSTOMER_AUDIENCE, customer.id, minutes)
    return {"token": token, "expires_at": expires}

