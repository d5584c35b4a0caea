"""Who is acting in the current request or command, for the audit log."""

from contextvars import ContextVar

current_actor: ContextVar[str] = ContextVar("current_actor", default="system")
