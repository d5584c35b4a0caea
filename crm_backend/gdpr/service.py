"""Data-subject rights: export everything about a customer, and erase them.

Erasure anonymises personal data and keeps what the business must keep (order amounts,
ticket counts and timings, campaign results), so reports stay correct.
"""

import hashlib

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from crm_backend.audit import service as audit
from crm_backend.audit.models import AuditEntry
from crm_backend.campaigns.models import CampaignContact
from crm_backend.conversations.models import Conversation
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order
from crm_backend.tickets.models import AuthorKind, Ticket, TicketMessage

ERASED = "[erased]"
PII_KEYS = ("name", "email", "phone", "address", "custom_attributes", "body",
            "shipping_address", "sender_id", "subject", "tracking_number", "csat_comment")


def _row(obj) -> dict:
    return {c.key: audit.to_json(getattr(obj, c.key))
            for c in obj.__mapper__.column_attrs if c.key not in audit.SECRET_COLUMNS}


def _related_ids(session: Session, customer_id: int) -> dict[str, list[int]]:
    def ids(model, *where):
        return list(session.scalars(select(model.id).where(*where)))

    tickets = ids(Ticket, Ticket.customer_id == customer_id)
    return {
        "orders": ids(Order, Order.customer_id == customer_id),
        "tickets": tickets,
        "ticket_messages": ids(TicketMessage, TicketMessage.ticket_id.in_(tickets)),
        "conversations": ids(Conversation, Conversation.customer_id == customer_id),
        "campaign_contacts": ids(CampaignContact, CampaignContact.customer_id == customer_id),
    }


def _audit_condition(customer_id: int, related: dict[str, list[int]]):
    parts = [and_(AuditEntry.entity_type == "customers",
                  AuditEntry.entity_id == str(customer_id)),
             and_(AuditEntry.entity_type == "customer_tags",
                  AuditEntry.entity_id.like(f"{customer_id}:%"))]
    for table, ids in related.items():
        if ids:
            parts.append(and_(AuditEntry.entity_type == table,
                              AuditEntry.entity_id.in_([str(i) for i in ids])))
    return or_(*parts)


def export(*, session: Session, customer: Customer) -> dict:
    related = _related_ids(session, customer.id)
    orders = session.scalars(select(Order).where(Order.customer_id == customer.id)
                             .order_by(Order.id))
    tickets = session.scalars(select(Ticket).where(Ticket.customer_id == customer.id)
                              .options(selectinload(Ticket.messages)).order_by(Ticket.id))
    data = {
        "customer": {**_row(customer), "tags": customer.tags},
        "scores": [_row(s) for s in session.scalars(
            select(CustomerScore).where(CustomerScore.customer_id == customer.id))],
        "orders": [{**_row(o), "number": o.number,
                    "items": [{**_row(i), "sku": i.sku, "name": i.name} for i in o.items]}
                   for o in orders],
        "tickets": [{**_row(t), "number": t.number,
                     "messages": [_row(m) for m in t.messages]} for t in tickets],
        "conversations": [_row(c) for c in session.scalars(
            select(Conversation).where(Conversation.customer_id == customer.id))],
        "campaign_contacts": [_row(c) for c in session.scalars(
            select(CampaignContact).where(CampaignContact.customer_id == customer.id))],
        "audit_log": [_row(a) for a in session.scalars(
            select(AuditEntry).where(_audit_condition(customer.id, related))
            .order_by(AuditEntry.id))],
    }
    audit.record(session, "gdpr.export", "customers", customer.id)
    session.flush()
    return data


def _scrub(value):
    if isinstance(value, dict):
        return {k: ERASED if k in PII_KEYS and v is not None else _scrub(v)
                for k, v in value.items()}
    return value


def erase(*, session: Session, customer: Customer) -> dict:
    if customer.erased_at is not None:
        raise Conflict("This customer was already erased.", erased_at=str(customer.erased_at))
    related = _related_ids(session, customer.id)
    # Bulk statements: these rows change for legal reasons, not by anyone's edit, so they
    # get one summarising audit entry instead of per-row entries full of the erased data.
    session.info["audit"] = False
    try:
        now = utcnow()
        session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer.id))
        session.execute(update(Customer).where(Customer.id == customer.id).values(
            name="Erased customer", email=f"erased-{customer.id}@erased.invalid", phone=None,
            address=None, custom_attributes={}, marketing_consent=False,
            marketing_consent_at=now, erased_at=now, updated_at=now,
            version=Customer.version + 1))
        session.execute(update(Order).where(Order.customer_id == customer.id).values(
            shipping_address=None, tracking_number=None))
        session.execute(update(TicketMessage).where(
            TicketMessage.id.in_(related["ticket_messages"]),
            TicketMessage.author_kind == AuthorKind.customer).values(body=ERASED))
        session.execute(update(Ticket).where(Ticket.customer_id == customer.id).values(
            subject=Ticket.category, csat_comment=None))
        for conv in session.scalars(select(Conversation)
                                    .where(Conversation.customer_id == customer.id)):
            digest = hashlib.sha256(f"{conv.channel}:{conv.sender_id}".encode()).hexdigest()
            conv.sender_id = f"erased-{digest[:32]}"
        entries = session.scalars(select(AuditEntry).where(
            _audit_condition(customer.id, related)))
        scrubbed = 0
        for entry in entries:
            entry.before, entry.after = _scrub(entry.before), _scrub(entry.after)
            scrubbed += 1
        session.flush()
    finally:
        session.info["audit"] = True
    summary = {"orders_kept": len(related["orders"]), "tickets_kept": len(related["tickets"]),
               "messages_redacted": len(related["ticket_messages"]),
               "conversations_pseudonymised": len(related["conversations"]),
               "audit_entries_scrubbed": scrubbed}
    audit.record(session, "gdpr.erase", "customers", customer.id, after=summary)
    session.flush()
    session.expire(customer)
    return summary
