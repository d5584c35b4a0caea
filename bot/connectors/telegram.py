"""Rasa 3.6's Telegram connector with two changes:

- The Bot API address can be set (`api_url`), e.g. to a local Bot API server, or to a
  recording stand-in in tests; Rasa's class always uses api.telegram.org.
- The webhook is registered once, when the server starts. Rasa's class registers it inside
  every `get_output_channel()` with `asyncio.run`, which fails inside a running event loop, so
  an agent's reply sent with `output_channel=latest` could not reach a Telegram customer.
- One Bot API client serves the server's lifetime and is closed when it stops. Rasa's class
  makes a client per message and never closes it, leaking a connection pool each time.
"""

from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from rasa.core.channels import telegram


class TelegramOutput(telegram.TelegramOutput):
    def __init__(self, access_token: str | None, server: TelegramAPIServer) -> None:
        Bot.__init__(self, access_token, server=server)


class TelegramInput(telegram.TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "TelegramInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("verify"),
                   credentials.get("webhook_url"), api_url=credentials.get("api_url"))

    def __init__(self, access_token, verify, webhook_url, debug_mode: bool = True,
                 api_url: str | None = None) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.server = TelegramAPIServer.from_base(api_url.rstrip("/")) if api_url \
            else TELEGRAM_PRODUCTION
        self._output: TelegramOutput | None = None

    def get_output_channel(self) -> TelegramOutput:
        if self._output is None:
            self._output = TelegramOutput(self.access_token, self.server)
        return self._output

    def blueprint(self, on_new_message):
        webhook = super().blueprint(on_new_message)

        @webhook.listener("after_server_start")
        async def register_webhook(_app, _loop) -> None:
            if self.webhook_url:
                await self.get_output_channel().set_webhook(url=self.webhook_url)

        @webhook.listener("before_server_stop")
        async def close_client(_app, _loop) -> None:
            if self._output is not None:
                await self._output.close()

        return webhook
