"""Call records projected from call events: calls, transfers, queue visits and returns; callbacks
get a done time and the queue visit they ended.

Revision ID: 0002_call_records
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_call_records"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types and value sets at this revision (see 0001).
UTC_TIME = sa.DateTime(timezone=True)
CALL_STATES = ("active", "ended", "unresolved")
INITIATORS = ("ivr", "agent")
RETURN_KINDS = ("bounce", "hand_back", "recall")
RETURN_REASONS = (
    "wrong_department",
    "no_answer",
    "department_closed",
    "wanted_switchboard",
    "other",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def _buckets() -> list[sa.Column[object]]:
    return [
        sa.Column("day_local", sa.Date(), nullable=False),
        sa.Column("hour_local", sa.SmallInteger(), nullable=False),
        sa.Column("weekday_local", sa.SmallInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("switchboard_open", sa.Boolean(), nullable=True),
        sa.Column("after_hours_result", sa.String(16), nullable=True),
        sa.Column("ivr_seconds", sa.Float(), nullable=True),
        sa.Column("from_department", sa.String(32), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("transfers_count", sa.Integer(), nullable=False),
        sa.Column("bounces_count", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", UTC_TIME, nullable=False),
        *_buckets(),
        sa.PrimaryKeyConstraint("call_sid", name="pk_calls"),
        sa.CheckConstraint(_one_of("state", CALL_STATES), name="ck_calls_state"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_caller_started_at", "calls", ["caller", "started_at"])
    op.create_index("ix_calls_from_department", "calls", ["from_department"])

    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.String(80), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("initiator", sa.String(8), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("whisper_accepted_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("cause", sa.String(16), nullable=True),
        sa.Column("dial_status", sa.String(16), nullable=True),
        sa.Column("bridged", sa.Boolean(), nullable=True),
        sa.Column("redirected", sa.Boolean(), nullable=False),
        sa.Column("bounce", sa.Boolean(), nullable=False),
        sa.Column("next_step", sa.String(8), nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        *_buckets(),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_transfers"),
        sa.CheckConstraint(_one_of("initiator", INITIATORS), name="ck_transfers_initiator"),
    )
    op.create_index("ix_transfers_call_sid", "transfers", ["call_sid"])
    op.create_index("ix_transfers_started_at", "transfers", ["started_at"])
    op.create_index("ix_transfers_caller_started_at", "transfers", ["caller", "started_at"])
    op.create_index("ix_transfers_department_started_at", "transfers", ["department", "started_at"])

    op.create_table(
        "queue_visits",
        sa.Column("visit_id", sa.String(80), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(8), nullable=False),
        sa.Column("joined_at", UTC_TIME, nullable=False),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("queue_time_seconds", sa.Float(), nullable=True),
        sa.Column("left_at", UTC_TIME, nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("ended", sa.String(16), nullable=True),
        sa.Column("leave_result", sa.String(32), nullable=True),
        sa.Column("in_opening_hours", sa.Boolean(), nullable=False),
        sa.Column("bounced_from", sa.String(80), nullable=True),
        *_buckets(),
        sa.PrimaryKeyConstraint("visit_id", name="pk_queue_visits"),
    )
    op.create_index("ix_queue_visits_call_sid", "queue_visits", ["call_sid"])
    op.create_index("ix_queue_visits_joined_at", "queue_visits", ["joined_at"])

    op.create_table(
        "returns",
        sa.Column("transfer_id", sa.String(80), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("transfer_call_sid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cause", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("tagged_at", UTC_TIME, nullable=True),
        sa.Column("next_step", sa.String(8), nullable=True),
        sa.Column("detected_at", UTC_TIME, nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("initiator", sa.String(8), nullable=False),
        *_buckets(),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_returns"),
        sa.CheckConstraint(_one_of("kind", RETURN_KINDS), name="ck_returns_kind"),
        sa.CheckConstraint(_one_of("reason", RETURN_REASONS), name="ck_returns_reason"),
    )
    op.create_index("ix_returns_call_sid", "returns", ["call_sid"])
    op.create_index("ix_returns_detected_at", "returns", ["detected_at"])

    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("done_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("visit_id", sa.String(80), nullable=True))


def downgrade() -> None:
    # Batch mode: SQLite drops a column by rebuilding the table.
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("visit_id")
        batch.drop_column("done_at")
    op.drop_table("returns")
    op.drop_table("queue_visits")
    op.drop_table("transfers")
    op.drop_table("calls")
