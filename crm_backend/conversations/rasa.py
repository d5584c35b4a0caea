"""The one place the CRM talks to the Rasa server's HTTP API.

Two things go that way, both for conversations an agent took over:

- an agent's reply, as a `bot` event posted to the conversation's tracker with
  `execute_side_effects=true&output_channel=latest`, which makes Rasa send it on the channel the
  customer last wrote from (socket.io, Telegram, Slack, Facebook, ...; not the REST channel);
- the hand-back when the ticket is done: a `resume` event, then the external intent
  `EXTERNAL_handoff_resolved` with the ticket number, so the bot greets the customer again and
  asks the CSAT question.

Rasa must run with `--enable-api` and `--auth-token` (CRM_RASA_TOKEN), which it expects as the
`token` query parameter. Every call has a timeout (CRM_RASA_TIMEOUT_SECONDS); failures raise
RasaUnavailable, and callers keep what they stored and report it as not delivered.
"""

from urllib.parse import quote

import httpx

from crm_backend.core.config import get_settings

HANDOFF_RESOLVED_INTENT = "EXTERNAL_handoff_resolved"


class RasaUnavailable(Exception):
    """Rasa could not be reached or refused the request."""


def _url(sender_id: str, tail: str) -> str:
    base = get_settings().rasa_url.rstrip("/")
    return f"{base}/conversations/{quote(sender_id, safe='')}/{tail}"


def _post(url: str, body: dict, params: dict) -> dict:
    settings = get_settings()
    if settings.rasa_token:
        params = {**params, "token": settings.rasa_token}
    try:
        resp = httpx.post(url, json=body, params=params,
                          timeout=settings.rasa_timeout_seconds)
    except httpx.HTTPError as exc:
        raise RasaUnavailable(f"Rasa is not reachable ({type(exc).__name__}).") from exc
    if resp.status_code >= 300:
        raise RasaUnavailable(f"Rasa answered {resp.status_code}: {resp.text[:200]}")
    try:
        return resp.json()
    except ValueError:
        return {}


def _events(sender_id: str, event: dict | list[dict]) -> dict:
    return _post(_url(sender_id, "tracker/events"), event,
                 {"output_channel": "latest", "execute_side_effects": "true"})


def send_agent_message(*, sender_id: str, text: str) -> None:
    """Deliver an agent's reply to the customer on their own channel."""
    # The metadata marks it as the agent's, so the event consumer files it under the agent and
    # does not add it to the ticket thread a second time.
    _events(sender_id, {"event": "bot", "text": text, "metadata": {"source": "agent"}})


def hand_back(*, sender_id: str, ticket_number: str) -> None:
    """Resume the paused conversation, then let the bot greet the customer back (and ask for
    CSAT) through the external intent. Resuming twice is harmless."""
    # The listen marks the end of the paused stretch, so the assistant's rules see the
    # hand-back intent as a fresh turn (paused turns leave no listen of their own).
    _events(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
    _post(_url(sender_id, "trigger_intent"),
          {"name": HANDOFF_RESOLVED_INTENT, "entities": {"ticket_number": ticket_number}},
          {"output_channel": "latest"})
