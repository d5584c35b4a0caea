from sqlalchemy import and_, case, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.audit import service as audit
from crm_backend.auth.deps import Principal
from crm_backend.auth.models import Role, User
from crm_backend.conversations import service as conversations
from crm_backend.conversations.models import Conversation
from crm_backend.core.config import get_settings
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from crm_backend.customers.models import Customer
from crm_backend.orders.models import Order
from crm_backend.scoring import escalation
from crm_backend.tickets import flows, sla
from crm_backend.tickets.models import (
    AuthorKind,
    Priority,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
    parse_number,
)

DONE = (TicketStatus.resolved, TicketStatus.closed)
ASSIGNABLE_ROLES = (Role.agent, Role.manager, Role.admin)
RANKS = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
PRIORITY_RANK = case(RANKS, value=Ticket.priority)



def get(*, session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket with id {ticket_id}.", ticket_id=ticket_id)
    return ticket


def _check_links(session: Session, data: dict) -> None:
    if data.get("customer_id") is not None and session.get(Customer, data["customer_id"]) is None:
        raise Unprocessable(f"No customer with id {data['customer_id']}.")
    if data.get("order_id") is not None:
        order = session.get(Order, data["order_id"])
        if order is None:
            raise Unprocessable(f"No order with id {data['order_id']}.")
        if data.get("customer_id") is not None and order.customer_id != data["customer_id"]:
            raise Unprocessable("The order belongs to another customer.",
                                order_id=order.id, customer_id=data["customer_id"])
        if data.get("customer_id") is None:
            data["customer_id"] = order.customer_id


def _link_conversation(session: Session, data: dict) -> None:
    """A chat identity in the request becomes the ticket's conversation row."""
    identity = data.pop("conversation", None)
    if identity and data.get("conversation_id") is None:
        conversation, _ = conversations.touch(session=session, **identity)
        data["conversation_id"] = conversation.id
        if data.get("customer_id") is None:
            data["customer_id"] = conversation.customer_id


def _append_transcript(session: Session, ticket: Ticket, lines: list[dict], now) -> int:
    """Adds the lines not stored yet (by external_id); returns how many were added. Lines
    without a time take `now`, and keep their order by id."""
    added = 0
    for line in lines:
        if AuthorKind(line["author_kind"]) == AuthorKind.agent:
            raise Unprocessable("Transcripts hold customer, bot and system lines; agent "
                                "replies are written by staff.")
        if line.get("external_id") and ticket.id is not None and _by_external_id(
                session, ticket.id, line["external_id"]):
            continue
        _add(session, ticket, TicketMessage(
            author_kind=line["author_kind"], body=line["body"],
            external_id=line.get("external_id"), created_at=line.get("sent_at") or now))
        added += 1
    return added


def _add(session: Session, ticket: Ticket, message: TicketMessage) -> None:
    # A stored ticket's messages are not loaded (they can be many): add the row by its key.
    if ticket.id is None:
        ticket.messages.append(message)
    else:
        message.ticket_id = ticket.id
        session.add(message)


def create(*, session: Session, data: dict) -> Ticket:
    data = dict(data)
    _link_conversation(session, data)
    _check_links(session, data)
    description = data.pop("description")
    author_kind = data.pop("author_kind")
    escalate = data.pop("escalate")
    transcript = data.pop("transcript", [])
    high_value_complaint = escalation.triage_new_ticket(
        session=session, data=data, text=f"{data['subject']}\n{description}") and not escalate
    escalate = escalate or high_value_complaint
    now = utcnow()
    first_due, resolve_due = sla.due_times(now, data["priority"])
    ticket = Ticket(**data, status=TicketStatus.escalated if escalate else TicketStatus.new,
                    first_response_due_at=first_due, resolution_due_at=resolve_due,
                    created_at=now, updated_at=now)
    _append_transcript(session, ticket, transcript, now)
    ticket.messages.append(TicketMessage(author_kind=author_kind, body=description,
                                         created_at=now))
    if high_value_complaint:
        ticket.messages.append(TicketMessage(
            author_kind=AuthorKind.system, created_at=now,
            body=f"Escalated: a complaint from a customer whose lifetime value is in the top "
                 f"{100 - round(100 * get_settings().high_value_percentile)}%."))
    session.add(ticket)
    session.flush()
    return ticket


def escalate(*, session: Session, data: dict) -> tuple[Ticket, bool]:
    """Hand a chat to a person: the conversation's ticket still being worked on is escalated
    and its transcript completed; without one, an escalated ticket is opened. Repeating the
    call adds nothing twice (transcript lines carry their channel ids)."""
    data = dict(data)
    reason = data.pop("reason")
    _link_conversation(session, data)
    _check_links(session, data)
    ticket = session.scalar(
        select(Ticket).where(Ticket.conversation_id == data["conversation_id"],
                             Ticket.status.not_in(DONE))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))
    if ticket is None:
        ticket = create(session=session, data={
            **data, "channel": _ticket_channel(session, data["conversation_id"]),
            "description": reason, "author_kind": AuthorKind.system, "escalate": True,
            "priority": Priority.high})
        return ticket, True
    now = utcnow()
    _append_transcript(session, ticket, data["transcript"], now)
    _add(session, ticket, TicketMessage(author_kind=AuthorKind.system, body=reason,
                                        created_at=now))
    if ticket.customer_id is None and data.get("customer_id") is not None:
        ticket.customer_id = data["customer_id"]
    if ticket.status != TicketStatus.escalated:
        _set_status(ticket, TicketStatus.escalated)
    ticket.updated_at = now
    session.flush()
    return ticket, False


def _ticket_channel(session: Session, conversation_id: int) -> TicketChannel:
    channel = session.get(Conversation, conversation_id).channel
    return TicketChannel(channel) if channel in TicketChannel._value2member_map_ \
        else TicketChannel.chat


def handoff_queue(*, session: Session, ticket: Ticket) -> tuple[int, int]:
    """(queue position, expected wait in minutes) of an escalated, unassigned ticket. Agents
    work business hours, so outside them the wait runs to the next opening."""
    if ticket.assignee_id is not None:
        return 0, 0
    higher = [p for p, r in RANKS.items() if r < RANKS[Priority(ticket.priority).value]]
    ahead = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.status == TicketStatus.escalated, Ticket.assignee_id.is_(None),
        Ticket.id != ticket.id,
        or_(Ticket.priority.in_(higher),
            and_(Ticket.priority == ticket.priority,
                 Ticket.created_at <= ticket.created_at)))) or 0
    position = ahead + 1
    now = utcnow()
    minutes = position * get_settings().handoff_minutes_per_ticket
    ready = sla.add_business_hours(now, minutes / 60)
    return position, max(1, round((ready - now).total_seconds() / 60))


def _set_status(ticket: Ticket, status: TicketStatus) -> None:
    flows.check_transition(ticket.status, status)
    now = utcnow()
    if status == TicketStatus.resolved:
        ticket.resolved_at = now
    elif status == TicketStatus.closed:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif ticket.status == TicketStatus.resolved:  # reopened
        ticket.resolved_at = None
    ticket.status = status


def _check_assignee(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None or not user.is_active or Role(user.role) not in ASSIGNABLE_ROLES:
        raise Unprocessable(f"User {user_id} cannot take tickets (unknown, inactive or not "
                            "an agent, manager or admin).", assignee_id=user_id)


def update(*, session: Session, ticket: Ticket, changes: dict) -> Ticket:
    if ticket.status == TicketStatus.closed:
        raise Conflict("Closed tickets cannot be edited.")
    if "status" in changes:
        _set_status(ticket, TicketStatus(changes.pop("status")))
    if changes.get("assignee_id") is not None:
        _check_assignee(session, changes["assignee_id"])
    if "priority" in changes and changes["priority"] != ticket.priority:
        ticket.first_response_due_at, ticket.resolution_due_at = sla.due_times(
            ticket.created_at, changes["priority"])
    for key, value in changes.items():
        setattr(ticket, key, value)
    session.flush()
    return ticket


def claim(*, session: Session, ticket: Ticket, user_id: int) -> Ticket:
    """Assign an unassigned ticket to `user_id`. One conditional UPDATE, so of two agents
    claiming at once exactly one wins."""
    _check_assignee(session, user_id)
    won = session.execute(
        sql_update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None))
        .values(assignee_id=user_id, version=Ticket.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(ticket)
    if won:
        audit.record(session, "claim", "tickets", ticket.id, before={"assignee_id": None},
                     after={"assignee_id": user_id})
    elif ticket.assignee_id != user_id:
        raise Conflict("Another agent has already claimed this ticket.",
                       assignee_id=ticket.assignee_id)
    return ticket


def add_message(*, session: Session, ticket: Ticket, data: dict,
                principal: Principal) -> tuple[TicketMessage, bool]:
    """Returns (message, created). A repeated external_id returns the stored message."""
    if data.get("external_id"):
        existing = _by_external_id(session, ticket.id, data["external_id"])
        if existing:
            return existing, False
    if ticket.status == TicketStatus.closed:
        raise Conflict("The ticket is closed; open a new one.")
    kind = AuthorKind(data["author_kind"])
    if (kind == AuthorKind.agent or data.get("internal")) and principal.kind != "user":
        raise Forbidden("Agent replies and internal notes must come from a staff account.")
    message = TicketMessage(ticket_id=ticket.id, author_kind=kind, body=data["body"],
                            internal=data.get("internal", False),
                            external_id=data.get("external_id"),
                            author_user_id=principal.id if kind == AuthorKind.agent else None)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # The same channel message arrived twice at once; the other copy was stored.
        existing = _by_external_id(session, ticket.id, data.get("external_id"))
        if existing is None:
            raise
        return existing, False
    if kind == AuthorKind.agent and not message.internal and ticket.first_responded_at is None:
        ticket.first_responded_at = message.created_at
        if ticket.status == TicketStatus.new:
            ticket.status = TicketStatus.open
    ticket.updated_at = utcnow()
    session.flush()
    return message, True


def _by_external_id(session: Session, ticket_id: int, external_id: str | None):
    if not external_id:
        return None
    return session.scalar(select(TicketMessage).where(
        TicketMessage.ticket_id == ticket_id, TicketMessage.external_id == external_id))


def record_csat(*, session: Session, ticket: Ticket, score: int, comment: str | None) -> Ticket:
    if ticket.status not in DONE:
        raise Conflict("CSAT can be recorded once the ticket is resolved.",
                       status=ticket.status)
    ticket.csat_score, ticket.csat_comment = score, comment
    session.flush()
    return ticket


def messages_query(*, ticket_id: int, include_internal: bool):
    stmt = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    if not include_internal:
        stmt = stmt.where(TicketMessage.internal.is_(False))
    return stmt


def list_query(*, number: str | None = None, overdue: bool | None = None):
    stmt = select(Ticket)
    if number is not None:
        ticket_id = parse_number(number)
        if ticket_id is None:
            raise Unprocessable(f"{number!r} is not a ticket number such as TCK-000045.")
        stmt = stmt.where(Ticket.id == ticket_id)
    if overdue is not None:
        now = utcnow()
        late = and_(Ticket.status.not_in(DONE), or_(
            and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at < now),
            Ticket.resolution_due_at < now))
        stmt = stmt.where(late if overdue else ~late)
    return stmt
