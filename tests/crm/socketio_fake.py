"""A stand-in for Rasa 3.6's socket.io channel, on python-socketio 5.8.0 (the version the bot
pins), served by uvicorn on 127.0.0.1. It follows the channel's protocol (session_request ->
session_confirm, user_uttered -> bot_uttered to the session's room) and records what arrived.

It answers "menu" with quick replies and everything else with "echo: <message>"."""

import asyncio
import socket
import threading
import time
import uuid

import socketio
import uvicorn


class FakeRasaSocket:
    def __init__(self):
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
        self.received: list[dict] = []
        self.session_requests: list[str | None] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        sio = self.sio

        @sio.on("session_request")
        async def session_request(sid, data):
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            self.session_requests.append((data or {}).get("session_id"))
            sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            self.received.append(data)
            await asyncio.sleep(0.3)  # the bot thinks
            if data.get("message") == "menu":
                answer = {"text": "What would you like to do?", "quick_replies": [
                    {"content_type": "text", "title": "Order status",
                     "payload": "/order_status"},
                    {"content_type": "text", "title": "Talk to a person",
                     "payload": "/human_handoff"}]}
            else:
                answer = {"text": f"echo: {data.get('message')}"}
            await sio.emit("bot_uttered", answer, room=data["session_id"])

    def push(self, session_id: str, text: str) -> None:
        """What Rasa does with an agent's `bot` event: send it to the session's room."""
        asyncio.run_coroutine_threadsafe(
            self.sio.emit("bot_uttered", {"text": text}, room=session_id), self.loop).result(5)

    def messages(self) -> list[str]:
        return [m.get("message") for m in self.received]


def start():
    fake = FakeRasaSocket()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(socketio.ASGIApp(fake.sio), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))

    def run():
        fake.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(fake.loop)
        fake.loop.run_until_complete(server.serve())
        # engine.io's ping tasks outlive the server; end them with the loop.
        pending = asyncio.all_tasks(fake.loop)
        for task in pending:
            task.cancel()
        fake.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        fake.loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return fake, f"http://127.0.0.1:{port}", server, thread
