"""Rasa 3.6's Slack connector, with the Web API address settable (`api_url`), e.g. for a
recording stand-in in tests; Rasa's class always uses slack.com."""

from typing import Any

from rasa.core.channels import slack
from slack_sdk.web.async_client import AsyncWebClient


class SlackInput(slack.SlackInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "SlackInput":
        channel = super().from_credentials(credentials)
        channel.api_url = (credentials or {}).get("api_url")
        return channel

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None):
        output = super().get_output_channel(channel, thread_id)
        if getattr(self, "api_url", None):
            output.client = AsyncWebClient(self.slack_token, proxy=self.proxy,
                                           base_url=self.api_url.rstrip("/") + "/")
        return output
