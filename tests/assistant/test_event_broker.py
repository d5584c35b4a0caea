"""The production event path end to end: a Rasa server with the pika event broker of
bot/endpoints.production.yml publishes to the local RabbitMQ, and `crm events consume` reads the
queue into the CRM. The tracker stays on SQLite as in bot/endpoints.yml.

The broker publishes through a fanout exchange, so every queue bound to it gets every event:
this run's exchange and queue are its own, so other runs and a local deployment on the same
RabbitMQ neither disturb it nor receive its events. Both are deleted at the end."""

import asyncio
import time
import uuid

import aio_pika
import httpx
import pytest
import yaml

from tests.assistant.stack import ROOT, free_port

pytestmark = pytest.mark.slow

RABBITMQ = {"RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": "5672", "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest"}
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


async def _connect(delete: dict[str, str] | None = None) -> None:
    """Connects to RabbitMQ; deletes the given queue and exchange."""
    connection = await aio_pika.connect(AMQP_URL, timeout=10)
    async with connection:
        if delete:
            channel = await connection.channel()
            await channel.queue_delete(delete["queue"])
            await channel.exchange_delete(delete["exchange"])


@pytest.fixture(scope="module")
def rabbitmq():
    """This run's queue and exchange names; RabbitMQ must be up (CI starts it, see .ci/run)."""
    try:
        asyncio.run(_connect())
    except Exception as error:
        pytest.fail(f"RabbitMQ is not reachable at 127.0.0.1:5672 with guest/guest ({error!r}); "
                    "start it, e.g. `rabbitmq-server -detached`.")
    run = uuid.uuid4().hex[:8]
    names = {"queue": f"test_rasa_events_{run}", "exchange": f"test-rasa-exchange-{run}"}
    yield names
    asyncio.run(_connect(delete=names))


@pytest.fixture(scope="module")
def broker_rasa(stack, rabbitmq):
    """A second Rasa server publishing to RabbitMQ, and a CRM consumer of its queue."""
    config = yaml.safe_load((ROOT / "bot/endpoints.yml").read_text())
    production = yaml.safe_load((ROOT / "bot/endpoints.production.yml").read_text())
    config["event_broker"] = {**production["event_broker"], "queues": [rabbitmq["queue"]],
                              "exchange_name": rabbitmq["exchange"]}
    endpoints = stack.tmp / "endpoints.rabbitmq.yml"
    endpoints.write_text(yaml.safe_dump(config, sort_keys=False))
    stack.start_events("events-amqp", f"{AMQP_URL}?queue={rabbitmq['queue']}")
    port = free_port()
    try:
        stack.start_rasa("rasa-rabbitmq", port, str(endpoints), **RABBITMQ,
                         TRACKER_DB=str(stack.tmp / "tracker-rabbitmq.db"))
        yield f"http://127.0.0.1:{port}"
    finally:
        for name in ("rasa-rabbitmq", "events-amqp"):
            if name in stack.procs:
                stack.stop(name)


def test_a_conversation_reaches_the_crm_through_rabbitmq(staff, broker_rasa):
    sender = f"test-{uuid.uuid4().hex[:10]}"
    expected = []
    for line in ("hello", "are you a bot?"):
        resp = httpx.post(f"{broker_rasa}/webhooks/rest/webhook",
                          json={"sender": sender, "message": line}, timeout=60)
        resp.raise_for_status()
        expected += [("customer", line)] + [("bot", m["text"]) for m in resp.json()]
    assert "shop's assistant" in expected[1][1] and "automated assistant" in expected[-1][1]

    deadline = time.monotonic() + 60
    while True:
        found = staff.get("/conversations", params={"sender_id": sender}).json()["items"]
        messages = staff.get(f"/conversations/{found[0]['id']}/messages").json()["items"] \
            if found else []
        if len(messages) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found, "the conversation did not reach the CRM"
    assert found[0]["channel"] == "rest"
    assert [(m["author_kind"], m["body"]) for m in messages] == expected
    assert [m["intent"] for m in messages if m["author_kind"] == "customer"] == [
        "greet", "bot_challenge"]
