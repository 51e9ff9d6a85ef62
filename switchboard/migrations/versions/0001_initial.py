"""Initial schema: call events, callbacks and SMS messages.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they were at this revision, not imports of the live
# models, so that later model changes cannot rewrite history.
UTC_TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "call_events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("data", JSON_DATA, nullable=False),
        sa.Column("ingested_at", UTC_TIME, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
        sa.UniqueConstraint("event_id", name="uq_call_events_event_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_call_events_dedupe_key"),
    )
    op.create_index("ix_call_events_kind", "call_events", ["kind"])
    op.create_index("ix_call_events_call_sid", "call_events", ["call_sid"])
    op.create_index("ix_call_events_occurred_at", "call_events", ["occurred_at"])

    op.create_table(
        "callbacks",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callbacks"),
        sa.UniqueConstraint("event_id", name="uq_callbacks_event_id"),
    )
    op.create_index("ix_callbacks_call_sid", "callbacks", ["call_sid"])
    op.create_index("ix_callbacks_caller", "callbacks", ["caller"])
    op.create_index("ix_callbacks_status", "callbacks", ["status"])

    op.create_table(
        "sms_messages",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sms_messages"),
        sa.UniqueConstraint("event_id", name="uq_sms_messages_event_id"),
    )
    op.create_index("ix_sms_messages_call_sid", "sms_messages", ["call_sid"])
    op.create_index("ix_sms_messages_caller", "sms_messages", ["caller"])
    op.create_index("ix_sms_messages_status", "sms_messages", ["status"])


def downgrade() -> None:
    op.drop_table("sms_messages")
    op.drop_table("callbacks")
    op.drop_table("call_events")
