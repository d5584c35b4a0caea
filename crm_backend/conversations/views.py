from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.conversations import service
from crm_backend.conversations.models import Conversation, ConversationMessage
from crm_backend.conversations.schemas import (
    ConversationIn,
    ConversationLink,
    ConversationMessageOut,
    ConversationOut,
)
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId, QueryId

router = APIRouter(prefix="/conversations", tags=["conversations"])
READ = require(Permission.conversations_read)
WRITE = require(Permission.conversations_write)
ConversationPages = Pages({"last_message_at": Conversation.last_message_at,
                           "created_at": Conversation.created_at}, ["-last_message_at"])


@router.get("", response_model=Page[ConversationOut], dependencies=[READ])
def list_conversations(session: SessionDep, params: ConversationPages,
                       channel: str | None = None,
                       sender_id: str | None = None, customer_id: QueryId = None):
    return paginate(session, select(Conversation), params, tiebreaker=Conversation.id,
                    filters={Conversation.channel: channel, Conversation.sender_id: sender_id,
                             Conversation.customer_id: customer_id})


@router.post("", response_model=ConversationOut, status_code=201, dependencies=[WRITE],
             responses={200: {"description": "The conversation already existed",
                              "model": ConversationOut}})
def touch_conversation(body: ConversationIn, session: SessionDep):
    """Record activity of a channel identity: created (201) the first time, then updated (200)."""
    conversation, created = service.touch(session=session, **body.model_dump())
    session.commit()
    return JSONResponse(jsonable_encoder(ConversationOut.model_validate(conversation)),
                        status_code=201 if created else 200)


@router.get("/{conversation_id}", response_model=ConversationOut, dependencies=[READ])
def get_conversation(conversation_id: PathId, session: SessionDep):
    return service.get(session=session, conversation_id=conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationOut, dependencies=[WRITE])
def link_customer(conversation_id: PathId, body: ConversationLink, session: SessionDep):
    conversation = service.get(session=session, conversation_id=conversation_id)
    service.link(session=session, conversation=conversation, customer_id=body.customer_id)
    session.commit()
    return conversation


@router.get("/{conversation_id}/messages", response_model=Page[ConversationMessageOut],
            dependencies=[READ])
def list_messages(conversation_id: PathId, session: SessionDep,
                  params: Pages({"sent_at": ConversationMessage.sent_at}, ["sent_at"])):
    """Everything said in the conversation, as the assistant's event broker reported it."""
    service.get(session=session, conversation_id=conversation_id)
    return paginate(session, select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation_id), params,
        tiebreaker=ConversationMessage.id)
