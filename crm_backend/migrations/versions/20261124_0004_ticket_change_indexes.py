"""ticket change indexes, for the agent consoles' live stream

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_updated_at", "tickets", ["updated_at"], unique=False)
    op.create_index("ix_ticket_messages_created_at", "ticket_messages", ["created_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_messages_created_at", table_name="ticket_messages")
    op.drop_index("ix_tickets_updated_at", table_name="tickets")
