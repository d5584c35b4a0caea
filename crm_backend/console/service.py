"""Console services: the queue, agent replies with delivery through Rasa, and the hand-back.

Like every service these flush but never commit. Delivery to Rasa happens after the view
committed, so a reply or a resolution is stored even when Rasa is down; the caller is told it
was not delivered instead.
"""

import logging

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from crm_backend.auth.deps import Principal
from crm_backend.auth.models import User
from crm_backend.console.schemas import Delivery, QueueMessage, QueueTicket
from crm_backend.conversations import rasa
from crm_backend.conversations.models import Conversation
from crm_backend.customers.models import Customer
from crm_backend.tickets import service as tickets
from crm_backend.tickets.models import AuthorKind, Ticket, TicketMessage, TicketStatus

log = logging.getLogger(__name__)

ACTIVE = (TicketStatus.new, TicketStatus.open, TicketStatus.pending, TicketStatus.escalated)
QUEUE_STATUSES = (TicketStatus.new, TicketStatus.open, TicketStatus.escalated)
# The SLA deadline that matters now: the first response until there is one, then resolution.
NEXT_DUE = case((Ticket.first_responded_at.is_(None), Ticket.first_response_due_at),
                else_=Ticket.resolution_due_at)
QUEUE_LIMIT = 500


def with_names(session: Session, rows: list[Ticket]) -> list[QueueTicket]:
    """Tickets with their customer's and assignee's names, in two small queries."""
    customer_ids = {t.customer_id for t in rows if t.customer_id}
    user_ids = {t.assignee_id for t in rows if t.assignee_id}
    customers = dict(session.execute(select(Customer.id, Customer.name)
                                     .where(Customer.id.in_(customer_ids))).all()
                     ) if customer_ids else {}
    users = dict(session.execute(select(User.id, User.full_name)
                                 .where(User.id.in_(user_ids))).all()
                 ) if user_ids else {}
    return [QueueTicket.model_validate(t).model_copy(update={
        "customer_name": customers.get(t.customer_id),
        "assignee_name": users.get(t.assignee_id)}) for t in rows]


def with_author_names(session: Session, rows: list[TicketMessage]) -> list[QueueMessage]:
    user_ids = {m.author_user_id for m in rows if m.author_user_id}
    users = dict(session.execute(select(User.id, User.full_name)
                                 .where(User.id.in_(user_ids))).all()
                 ) if user_ids else {}
    return [QueueMessage.model_validate(m).model_copy(
        update={"author_name": users.get(m.author_user_id)}) for m in rows]


def queue(*, session: Session, statuses=QUEUE_STATUSES,
          assignee_id: int | None = None) -> list[QueueTicket]:
    """Tickets waiting for agents: most urgent priority first, then the nearest SLA deadline."""
    stmt = select(Ticket).where(Ticket.status.in_([str(s) for s in statuses]))
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    stmt = stmt.order_by(tickets.PRIORITY_RANK, NEXT_DUE, Ticket.id).limit(QUEUE_LIMIT)
    return with_names(session, list(session.scalars(stmt)))


def reply(*, session: Session, ticket: Ticket, principal: Principal, body: str,
          internal: bool) -> TicketMessage:
    message, _ = tickets.add_message(
        session=session, ticket=ticket, principal=principal,
        data={"author_kind": AuthorKind.agent, "body": body, "internal": internal})
    return message


def _conversation(session: Session, ticket: Ticket) -> Conversation | None:
    if ticket.conversation_id is None:
        return None
    return session.get(Conversation, ticket.conversation_id)


def deliver(*, session: Session, ticket: Ticket, message: TicketMessage) -> Delivery:
    """Send a stored agent reply to the customer's chat. Internal notes never leave the CRM."""
    if message.internal or AuthorKind(message.author_kind) != AuthorKind.agent:
        return Delivery(delivered=None)
    conversation = _conversation(session, ticket)
    if conversation is None:
        return Delivery(delivered=None)
    try:
        rasa.send_agent_message(sender_id=conversation.sender_id, text=message.body)
    except rasa.RasaUnavailable as exc:
        log.warning("reply %s on %s not delivered: %s", message.id, ticket.number, exc)
        return Delivery(delivered=False, channel=conversation.channel, error=str(exc))
    return Delivery(delivered=True, channel=conversation.channel)


def finish(*, session: Session, ticket: Ticket, status: TicketStatus) -> bool:
    """Resolve or close the ticket; True when it was still being worked on, i.e. its chat (if
    any) is to be handed back to the assistant."""
    was_active = TicketStatus(ticket.status) in ACTIVE
    tickets.update(session=session, ticket=ticket, changes={"status": status})
    return was_active


def hand_back(*, session: Session, ticket: Ticket) -> Delivery:
    """Give the ticket's chat back to the assistant: resume, then the bot greets the customer
    and asks how satisfied they are (CSAT)."""
    conversation = _conversation(session, ticket)
    if conversation is None:
        return Delivery(delivered=None)
    try:
        rasa.hand_back(sender_id=conversation.sender_id, ticket_number=ticket.number)
    except rasa.RasaUnavailable as exc:
        log.warning("%s not handed back to the assistant: %s", ticket.number, exc)
        return Delivery(delivered=False, channel=conversation.channel, error=str(exc))
    return Delivery(delivered=True, channel=conversation.channel)
