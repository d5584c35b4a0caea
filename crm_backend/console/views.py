"""Routes behind the agent console (the page itself is in web/)."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select

from crm_backend.auth.deps import CurrentPrincipal, CurrentUser, SessionDep, require
from crm_backend.auth.models import User
from crm_backend.auth.permissions import Permission
from crm_backend.console import events, service
from crm_backend.console.schemas import (
    AgentOut,
    CannedResponseOut,
    Delivery,
    QueueTicket,
    ReplyIn,
    ReplyOut,
    TicketActionOut,
)
from crm_backend.core.config import get_settings
from crm_backend.core.db import utcnow
from crm_backend.core.errors import NotFound, Unprocessable
from crm_backend.core.schemas import PathId
from crm_backend.tickets import service as tickets
from crm_backend.tickets.models import AuthorKind, TicketMessage, TicketStatus
from crm_backend.tickets.schemas import MessageOut

READ = require(Permission.tickets_read)
WRITE = require(Permission.tickets_write)
NOT_DELIVERED = {202: {"description": "Stored, but Rasa could not be reached: not delivered "
                                      "to the customer (`delivered` false)"}}

# Declared before the tickets router, so /tickets/events is not taken for a ticket id.
ticket_router = APIRouter(prefix="/tickets", tags=["tickets"])
router = APIRouter(prefix="/console", tags=["console"])


@ticket_router.get(
    "/events", dependencies=[READ],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "Server-sent events: ready, ticket, message"}})
def ticket_events(
    request: Request, session: SessionDep, principal: CurrentPrincipal,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    cursor: Annotated[str | None, Query(description="Resume after this event id (same as "
                                                    "the Last-Event-ID header)")] = None,
):
    """Live ticket changes and new messages, from every CRM process, as server-sent events.
    Authenticate with the `Authorization` header like any route (the console reads the stream
    with `fetch`, not `EventSource`, so the token never appears in a URL)."""
    include_internal = principal.kind == "user"
    session.close()  # the stream opens short sessions of its own; hold no connection
    start = events.parse_cursor(last_event_id or cursor)
    feed = events.ChangeFeed(start or utcnow(), include_internal=include_internal)
    body = events.stream(request, feed, resumed=start is not None,
                         poll_seconds=get_settings().events_poll_seconds)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _status(delivered: bool | None, ok: int) -> int:
    return 202 if delivered is False else ok


@ticket_router.post("/{ticket_id}/reply", response_model=ReplyOut, status_code=201,
                    dependencies=[WRITE], responses=NOT_DELIVERED)
def reply(ticket_id: PathId, body: ReplyIn, session: SessionDep, principal: CurrentPrincipal,
          _: CurrentUser):
    """An agent's reply (or, with `internal`, a note for colleagues). The reply is stored in
    the thread first; then, when the ticket came from a chat, it is sent to the customer on
    their own channel through Rasa. 202 with `delivered: false` when Rasa could not take it:
    the reply stays stored and can be sent again (`.../messages/{id}/deliver`)."""
    ticket = tickets.get(session=session, ticket_id=ticket_id)
    message = service.reply(session=session, ticket=ticket, principal=principal,
                            body=body.body, internal=body.internal)
    session.commit()
    delivery = service.deliver(session=session, ticket=ticket, message=message)
    out = ReplyOut(message=MessageOut.model_validate(message), delivery=delivery)
    return JSONResponse(jsonable_encoder(out), status_code=_status(delivery.delivered, 201))


@ticket_router.post("/{ticket_id}/messages/{message_id}/deliver", response_model=ReplyOut,
                    dependencies=[WRITE], responses=NOT_DELIVERED)
def deliver_again(ticket_id: PathId, message_id: PathId, session: SessionDep, _: CurrentUser):
    """Send a stored agent reply to the customer again, e.g. after Rasa was down."""
    ticket = tickets.get(session=session, ticket_id=ticket_id)
    message = session.get(TicketMessage, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise NotFound(f"Ticket {ticket.number} has no message {message_id}.")
    if message.internal or AuthorKind(message.author_kind) != AuthorKind.agent:
        raise Unprocessable("Only agent replies are sent to customers; internal notes never.")
    delivery = service.deliver(session=session, ticket=ticket, message=message)
    out = ReplyOut(message=MessageOut.model_validate(message), delivery=delivery)
    return JSONResponse(jsonable_encoder(out), status_code=_status(delivery.delivered, 200))


def _finish(session, ticket_id: int, status: TicketStatus) -> JSONResponse:
    ticket = tickets.get(session=session, ticket_id=ticket_id)
    hand_back = service.finish(session=session, ticket=ticket, status=status)
    session.commit()
    handback = service.hand_back(session=session, ticket=ticket) if hand_back \
        else Delivery(delivered=None)
    out = TicketActionOut(ticket=service.with_names(session, [ticket])[0], handback=handback)
    return JSONResponse(jsonable_encoder(out), status_code=_status(handback.delivered, 200))


FINISH_RESPONSES = {202: {"description": "Done, but the chat could not be "
                                                          "handed back: Rasa is unreachable"},
                    409: {"description": "The ticket cannot move to this status"}}


@ticket_router.post("/{ticket_id}/resolve", response_model=TicketActionOut,
                    dependencies=[WRITE], responses=FINISH_RESPONSES)
def resolve(ticket_id: PathId, session: SessionDep, _: CurrentUser):
    """Resolve the ticket. When it came from a chat, the conversation is handed back to the
    assistant (`resume`, then the intent EXTERNAL_handoff_resolved with the ticket number), so
    the bot greets the customer and asks the CSAT question. 202 when Rasa could not be
    reached: the ticket is resolved all the same; retry with `.../handback`."""
    return _finish(session, ticket_id, TicketStatus.resolved)


@ticket_router.post("/{ticket_id}/close", response_model=TicketActionOut,
                    dependencies=[WRITE], responses=FINISH_RESPONSES)
def close(ticket_id: PathId, session: SessionDep, _: CurrentUser):
    """Close the ticket (final). A chat still handed over to agents goes back to the assistant
    as on resolve."""
    return _finish(session, ticket_id, TicketStatus.closed)


@ticket_router.post("/{ticket_id}/handback", response_model=TicketActionOut,
                    dependencies=[WRITE], responses=FINISH_RESPONSES)
def handback(ticket_id: PathId, session: SessionDep, _: CurrentUser):
    """Hand a resolved or closed ticket's chat back to the assistant again (after a 202)."""
    ticket = tickets.get(session=session, ticket_id=ticket_id)
    if TicketStatus(ticket.status) in service.ACTIVE:
        raise Unprocessable("Resolve or close the ticket first; its chat is still with agents.")
    result = service.hand_back(session=session, ticket=ticket)
    out = TicketActionOut(ticket=service.with_names(session, [ticket])[0], handback=result)
    return JSONResponse(jsonable_encoder(out), status_code=_status(result.delivered, 200))


@router.get("/queue", response_model=list[QueueTicket], dependencies=[READ])
def queue(session: SessionDep, user: CurrentUser,
          mine: Annotated[bool, Query(description="Only my active tickets (pending too)")]
          = False):
    """New, open and escalated tickets (at most 500), most urgent priority first, then the
    nearest SLA deadline; with `mine`, the caller's own tickets still being worked on."""
    if mine:
        return service.queue(session=session, statuses=service.ACTIVE, assignee_id=user.id)
    return service.queue(session=session)


@router.get("/agents", response_model=list[AgentOut], dependencies=[READ])
def agents(session: SessionDep):
    """Active staff who can take tickets, for showing who holds one."""
    return session.scalars(select(User).where(
        User.is_active.is_(True), User.role.in_([str(r) for r in tickets.ASSIGNABLE_ROLES]))
        .order_by(User.full_name, User.id)).all()


@router.get("/canned-responses", response_model=list[CannedResponseOut], dependencies=[READ])
def canned_responses():
    """Ready-made replies (CRM_CANNED_RESPONSES); {customer_name}, {agent_name} and
    {ticket_number} are placeholders the console fills in."""
    return [c.model_dump() for c in get_settings().canned_responses]
