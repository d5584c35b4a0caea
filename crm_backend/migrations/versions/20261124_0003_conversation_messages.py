"""conversation messages from the assistant's event broker, and broker read positions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("author_kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_conversation_messages_conversation_id_conversations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_messages")),
        sa.UniqueConstraint("conversation_id", "external_id",
                            name=op.f("uq_conversation_messages_conversation_id")),
    )
    op.create_index(op.f("ix_conversation_messages_conversation_id"), "conversation_messages",
                    ["conversation_id"], unique=False)
    op.create_table(
        "broker_cursors",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_broker_cursors")),
    )


def downgrade() -> None:
    op.drop_table("broker_cursors")
    op.drop_index(op.f("ix_conversation_messages_conversation_id"),
                  table_name="conversation_messages")
    op.drop_table("conversation_messages")
