"""Rasa 3.6's Facebook Messenger connector, with the Graph API address settable (`api_url`),
e.g. to pin a Graph API version or to point at a recording stand-in in tests.

Rasa's class builds its Messenger client inside the webhook handler, and the client library
(fbmessenger) fixes the address to graph.facebook.com with an old API version, so the webhook
route is declared here again; the verification handshake and the parsing of messages and
postbacks are Rasa's own. An empty `api_url` means the real Graph API.

The signature check is this module's: Facebook signs with SHA-256 (X-Hub-Signature-256) and,
for older apps, SHA-1 (X-Hub-Signature). Rasa's check reads only the SHA-1 header, takes the
hash function from the header itself, and compares with `==`.
"""

import hashlib
import hmac
import logging
from typing import Any

from fbmessenger import MessengerClient
from rasa.core.channels import facebook
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response

log = logging.getLogger(__name__)


def signed_by_facebook(app_secret: str, body: bytes, headers) -> bool:
    for header, algorithm in (("X-Hub-Signature-256", hashlib.sha256),
                              ("X-Hub-Signature", hashlib.sha1)):
        given = headers.get(header)
        if given:
            expected = hmac.new(app_secret.encode(), body, algorithm).hexdigest()
            return hmac.compare_digest(given.partition("=")[2], expected)
    return False


def messenger_client(page_access_token: str, api_url: str | None) -> MessengerClient:
    client = MessengerClient(page_access_token)
    if api_url:
        client.graph_url = api_url.rstrip("/")
    return client


class MessengerBot(facebook.MessengerBot):
    """A button template holds at most three buttons, and Rasa's class drops every button of
    a longer list (the return reasons, the 1-5 satisfaction score). Those go out as quick
    replies instead, which hold up to eleven with titles of at most 20 characters."""

    async def send_text_with_buttons(self, recipient_id, text, buttons, **kwargs) -> None:
        if len(buttons) <= 3:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
            return
        replies = [{"title": b["title"][:20], "payload": b["payload"]} for b in buttons[:11]]
        await self.send_quick_replies(recipient_id, text, replies)


class Messenger(facebook.Messenger):
    def __init__(self, page_access_token, on_new_message, api_url: str | None = None) -> None:
        super().__init__(page_access_token, on_new_message)
        self.client = messenger_client(page_access_token, api_url)

    async def _handle_user_message(self, text, sender_id, metadata) -> None:
        # As Rasa's method, but answering through this module's MessengerBot.
        out = MessengerBot(self.client)
        await out.send_action(sender_id, sender_action="mark_seen")
        await out.send_action(sender_id, sender_action="typing_on")
        try:
            await self.on_new_message(UserMessage(text, out, sender_id,
                                                  input_channel=self.name(), metadata=metadata))
        except Exception:
            log.exception("The assistant failed to handle a Messenger message")
        finally:
            await out.send_action(sender_id, sender_action="typing_off")


class FacebookInput(facebook.FacebookInput):
    api_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "FacebookInput":
        channel = super().from_credentials(credentials)
        channel.api_url = (credentials or {}).get("api_url") or None
        return channel

    def get_output_channel(self) -> MessengerBot:
        return MessengerBot(messenger_client(self.fb_access_token, self.api_url))

    def blueprint(self, on_new_message) -> Blueprint:
        webhook = Blueprint("fb_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request):
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request):
            if request.args.get("hub.verify_token") == self.fb_verify:
                return response.text(request.args.get("hub.challenge"))
            return response.text("failure, invalid token")

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request):
            if not signed_by_facebook(self.fb_secret, request.body, request.headers):
                log.warning("Facebook webhook request with a wrong signature: check the app "
                            "secret (FACEBOOK_SECRET)")
                return response.text("not validated")
            messenger = Messenger(self.fb_access_token, on_new_message, self.api_url)
            await messenger.handle(request.json, self.get_metadata(request))
            return response.text("success")

        return webhook
