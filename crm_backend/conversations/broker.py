"""Reading the assistant's event broker. Two sources, picked by CRM_EVENTS_SOURCE:

- `sql:<SQLAlchemy URL>`: the table `events` that Rasa's SQL event broker writes (the embedded
  default: an SQLite file). Polled; the read position is stored with what was read.
- `amqp://user:pass@host:5672/vhost?queue=rasa_events`: RabbitMQ, as Rasa's pika broker
  publishes to it in production. A message is acknowledged only after its events are committed,
  so a CRM that stops mid-way gets it again (at least once) and ingestion drops the repeat.
"""

import json
import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from crm_backend.conversations.ingest import ingest
from crm_backend.conversations.models import BrokerCursor
from crm_backend.core.db import get_sessionmaker

log = logging.getLogger(__name__)
BATCH = 500


def consume_sql_once(session_factory, url: str) -> int:
    """Ingest the broker rows written since the stored position; returns how many were read."""
    engine = create_engine(url)
    try:
        with session_factory() as session:
            cursor = session.get(BrokerCursor, url) or BrokerCursor(source=url, position=0)
            with engine.connect() as conn:
                try:
                    rows = conn.execute(text("SELECT id, data FROM events WHERE id > :p "
                                             "ORDER BY id LIMIT :n"),
                                        {"p": cursor.position, "n": BATCH}).all()
                except Exception:  # the assistant has not created its table yet
                    return 0
            for row_id, data in rows:
                ingest(session, json.loads(data))
                cursor.position = row_id
            session.add(cursor)
            session.commit()
            return len(rows)
    finally:
        engine.dispose()


def consume_amqp(session_factory, url: str, *, stop: Callable[[], bool] = lambda: False) -> None:
    import pika

    parts = urlsplit(url)
    queue = parse_qs(parts.query).get("queue", ["rasa_events"])[0]
    params = pika.URLParameters(urlunsplit(parts._replace(query="")))
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    channel.basic_qos(prefetch_count=100)
    try:
        while not stop():
            method, _props, body = channel.basic_get(queue=queue, auto_ack=False)
            if method is None:
                connection.sleep(0.5)
                continue
            with session_factory() as session:
                ingest(session, json.loads(body))
                session.commit()
            channel.basic_ack(method.delivery_tag)
    finally:
        connection.close()


def run(source: str, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
    """Consume until `stop()` says so; survives the CRM database or the broker being away."""
    kind, _, target = source.partition(":")
    factory: Callable[[], Session] = get_sessionmaker()
    while not stop():
        try:
            if kind == "sql":
                if consume_sql_once(factory, target) < BATCH:
                    time.sleep(interval)
            elif kind == "amqp":
                consume_amqp(factory, source, stop=stop)
            else:
                raise ValueError(f"unknown event source {source!r}: use sql:URL or amqp://...")
        except ValueError:
            raise
        except Exception:
            log.exception("Event consumer failed; retrying in %.0f s", 5 * interval)
            time.sleep(5 * interval)
