"""Conversation events from the assistant's event broker: stored once, in order, and routed to
the ticket of a conversation a person is handling. Both sources are real: an SQLite table as
Rasa's SQL broker writes it, and the local RabbitMQ."""

import json
import time
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from crm_backend.conversations import broker
from crm_backend.conversations.ingest import ingest
from crm_backend.conversations.models import Conversation, ConversationMessage
from crm_backend.core import db
from crm_backend.tickets.models import TicketMessage

SENDER = "web-42"


def user(text_, message_id, ts, sender=SENDER):
    return {"event": "user", "sender_id": sender, "text": text_, "message_id": message_id,
            "timestamp": ts, "input_channel": "socketio",
            "parse_data": {"intent": {"name": "order_status"}}}


def bot(text_, ts, **metadata):
    return {"event": "bot", "sender_id": SENDER, "text": text_, "timestamp": ts,
            "metadata": metadata}


def test_every_message_is_stored_once(session):
    events = [user("where is my order", "m1", 1000.0), bot("Which order?", 1001.0),
              {"event": "action", "sender_id": SENDER, "name": "request_form",
               "timestamp": 1001.5}]
    assert [ingest(session, e) for e in events] == [True, True, False]
    assert [ingest(session, e) for e in events] == [False, False, False]  # redelivered
    session.commit()
    rows = session.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
    assert [(r.author_kind, r.body, r.intent) for r in rows] == [
        ("customer", "where is my order", "order_status"), ("bot", "Which order?", None)]
    conversation = session.scalar(select(Conversation))
    assert (conversation.channel, conversation.sender_id) == ("socketio", SENDER)


def test_paused_conversation_reaches_the_ticket_in_order(session, agent):
    ingest(session, user("I need a person", "m1", 1000.0))
    session.commit()
    conversation = session.scalar(select(Conversation))
    resp = agent.post("/api/v1/tickets/escalations", json={
        "conversation": {"channel": "socketio", "sender_id": SENDER},
        "reason": "Customer asked for a person",
        "transcript": [{"author_kind": "customer", "body": "I need a person",
                        "external_id": "m1"}]})
    ticket_id = resp.json()["ticket"]["id"]
    for n, words in enumerate(["hello?", "are you there", "my order is late"], start=2):
        ingest(session, user(words, f"m{n}", 1000.0 + n))
    ingest(session, bot("Hi, I'm Anna from support", 1010.0, source="agent"))
    ingest(session, user("hello?", "m2", 1002.0))  # redelivered
    session.commit()
    thread = session.scalars(select(TicketMessage.body).where(
        TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)).all()
    assert thread == ["I need a person", "Customer asked for a person", "hello?",
                      "are you there", "my order is late"]
    authors = session.scalars(select(ConversationMessage.author_kind).where(
        ConversationMessage.conversation_id == conversation.id)
        .order_by(ConversationMessage.id)).all()
    assert authors == ["customer", "customer", "customer", "customer", "agent"]
    listed = agent.get(f"/api/v1/conversations/{conversation.id}/messages").json()
    assert listed["total"] == 5 and listed["items"][-1]["author_kind"] == "agent"


def test_sql_broker_table_is_read_from_the_stored_position(session, tmp_path):
    url = f"sqlite:///{tmp_path}/events.db"
    source = create_engine(url)
    with source.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, "
                          "data TEXT)"))
        for n in range(3):
            conn.execute(text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                         {"s": SENDER, "d": json.dumps(user(f"line {n}", f"m{n}", 1000.0 + n))})
    factory = db.get_sessionmaker()
    assert broker.consume_sql_once(factory, url) == 3
    assert broker.consume_sql_once(factory, url) == 0  # nothing new
    with source.begin() as conn:
        conn.execute(text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                     {"s": SENDER, "d": json.dumps(user("line 3", "m3", 1003.0))})
    assert broker.consume_sql_once(factory, url) == 1
    bodies = session.scalars(select(ConversationMessage.body)
                             .order_by(ConversationMessage.id)).all()
    assert bodies == ["line 0", "line 1", "line 2", "line 3"]


def _rabbitmq():
    pika = pytest.importorskip("pika")
    try:
        return pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    except pika.exceptions.AMQPError:
        pytest.skip("no RabbitMQ on 127.0.0.1:5672")


def test_rabbitmq_messages_are_acknowledged_only_once_stored(session):
    queue = f"test_events_{uuid.uuid4().hex[:8]}"
    connection = _rabbitmq()
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    events = [user(f"line {n}", f"m{n}", 1000.0 + n) for n in range(4)]
    for event in events + events[:2]:  # the broker may deliver twice
        channel.basic_publish("", queue, json.dumps(event))
    url = f"amqp://guest:guest@127.0.0.1:5672/%2F?queue={queue}"
    deadline = time.monotonic() + 20

    def done():
        return (channel.queue_declare(queue=queue, durable=True,
                                      passive=True).method.message_count == 0
                or time.monotonic() > deadline)

    try:
        broker.consume_amqp(db.get_sessionmaker(), url, stop=done)
    finally:
        channel.queue_delete(queue=queue)
        connection.close()
    assert session.scalar(select(func.count()).select_from(ConversationMessage)) == 4
    bodies = session.scalars(select(ConversationMessage.body)
                             .order_by(ConversationMessage.id)).all()
    assert bodies == [f"line {n}" for n in range(4)]
