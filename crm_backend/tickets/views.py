from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from crm_backend.auth.deps import CurrentPrincipal, CurrentUser, SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.concurrency import IfMatch, check_if_match, set_etag
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId, QueryId
from crm_backend.idempotency.service import IdempotencyKey, create_idempotently
from crm_backend.scoring import escalation
from crm_backend.tickets import service
from crm_backend.tickets.models import Priority, Ticket, TicketChannel, TicketMessage, TicketStatus
from crm_backend.tickets.schemas import (
    CsatIn,
    EscalationIn,
    EscalationOut,
    MessageCreate,
    MessageOut,
    TicketCreate,
    TicketOut,
    TicketUpdate,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])
READ = require(Permission.tickets_read)
WRITE = require(Permission.tickets_write)

SORT_FIELDS = {"priority": service.PRIORITY_RANK,
               "first_response_due_at": Ticket.first_response_due_at,
               "resolution_due_at": Ticket.resolution_due_at,
               "created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
               "escalation": escalation.ranking()}


@router.get("", response_model=Page[TicketOut], dependencies=[READ])
def list_tickets(
    session: SessionDep,
    params: Pages(SORT_FIELDS, ["priority", "first_response_due_at"]),
    number: Annotated[str | None, Query(description="Ticket number, e.g. TCK-000045")] = None,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    category: str | None = None,
    channel: TicketChannel | None = None,
    assignee_id: QueryId = None,
    customer_id: QueryId = None,
    order_id: QueryId = None,
    conversation_id: QueryId = None,
    overdue: Annotated[bool | None, Query(description="Only tickets past an unmet SLA")] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
):
    stmt = service.list_query(number=number, overdue=overdue)
    if created_from:
        stmt = stmt.where(Ticket.created_at >= created_from)
    if created_to:
        stmt = stmt.where(Ticket.created_at < created_to)
    return paginate(session, stmt, params, tiebreaker=Ticket.id,
                    filters={Ticket.status: status, Ticket.priority: priority,
                             Ticket.category: category, Ticket.channel: channel,
                             Ticket.assignee_id: assignee_id, Ticket.customer_id: customer_id,
                             Ticket.order_id: order_id, Ticket.conversation_id: conversation_id})


@router.post("", response_model=TicketOut, status_code=201)
def create_ticket(body: TicketCreate, session: SessionDep, principal: CurrentPrincipal,
                  idempotency_key: IdempotencyKey = None, _=WRITE):
    return create_idempotently(
        session, principal=principal.ref, key=idempotency_key, path="/tickets", payload=body,
        create=lambda: service.create(session=session, data=body.model_dump()),
        serialize=TicketOut.model_validate)


@router.post("/escalations", response_model=EscalationOut, dependencies=[WRITE])
def escalate(body: EscalationIn, session: SessionDep):
    """Hand a chat conversation to a person. Escalates the conversation's open ticket, or
    opens one; safe to repeat. Answers with the queue position and expected wait."""
    ticket, created = service.escalate(session=session, data=body.model_dump())
    session.commit()
    position, wait = service.handoff_queue(session=session, ticket=ticket)
    return {"ticket": ticket, "created": created, "queue_position": position,
            "expected_wait_minutes": wait}


@router.get("/{ticket_id}", response_model=TicketOut, dependencies=[READ])
def get_ticket(ticket_id: PathId, session: SessionDep, response: Response):
    ticket = service.get(session=session, ticket_id=ticket_id)
    set_etag(response, ticket)
    return ticket


@router.patch("/{ticket_id}", response_model=TicketOut, dependencies=[WRITE],
              responses={409: {"description": "Illegal status change, stale If-Match, or a "
                               "closed ticket"}})
def update_ticket(ticket_id: PathId, body: TicketUpdate, session: SessionDep, response: Response,
                  if_match: IfMatch = None):
    ticket = service.get(session=session, ticket_id=ticket_id)
    check_if_match(ticket, if_match)
    service.update(session=session, ticket=ticket, changes=body.model_dump(exclude_unset=True))
    session.commit()
    set_etag(response, ticket)
    return ticket


@router.post("/{ticket_id}/claim", response_model=TicketOut, dependencies=[WRITE],
             responses={409: {"description": "Another agent holds the ticket"}})
def claim_ticket(ticket_id: PathId, session: SessionDep, user: CurrentUser, response: Response):
    ticket = service.claim(session=session, ticket=service.get(session=session,
                                                               ticket_id=ticket_id),
                           user_id=user.id)
    session.commit()
    set_etag(response, ticket)
    return ticket


@router.get("/{ticket_id}/messages", response_model=Page[MessageOut], dependencies=[READ])
def list_messages(
    ticket_id: PathId,
    session: SessionDep,
    params: Pages({"created_at": TicketMessage.created_at}, ["created_at"]),
    principal: CurrentPrincipal,
    include_internal: Annotated[bool | None, Query(
        description="Show internal notes; default: yes for staff, no for API keys")] = None,
):
    service.get(session=session, ticket_id=ticket_id)
    if include_internal is None:
        include_internal = principal.kind == "user"
    return paginate(session, service.messages_query(ticket_id=ticket_id,
                                                    include_internal=include_internal),
                    params, tiebreaker=TicketMessage.id)


@router.post("/{ticket_id}/messages", response_model=MessageOut, status_code=201,
             dependencies=[WRITE],
             responses={200: {"description": "Already stored (same external_id)",
                              "model": MessageOut}})
def add_message(ticket_id: PathId, body: MessageCreate, session: SessionDep,
                principal: CurrentPrincipal):
    ticket = service.get(session=session, ticket_id=ticket_id)
    message, created = service.add_message(session=session, ticket=ticket,
                                           data=body.model_dump(), principal=principal)
    session.commit()
    return JSONResponse(jsonable_encoder(MessageOut.model_validate(message)),
                        status_code=201 if created else 200)


@router.post("/{ticket_id}/csat", response_model=TicketOut, dependencies=[WRITE])
def record_csat(ticket_id: PathId, body: CsatIn, session: SessionDep):
    ticket = service.get(session=session, ticket_id=ticket_id)
    service.record_csat(session=session, ticket=ticket, score=body.score, comment=body.comment)
    session.commit()
    return ticket
