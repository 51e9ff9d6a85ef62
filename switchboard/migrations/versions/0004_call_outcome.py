"""The call outcome becomes a column: `calls.outcome`, written by the projection.

Existing rows get the outcome the exporter computed in SQL until this revision, with a frozen
copy of that rule below: the first that applies of in_progress (the call is active),
unresolved, transferred (a transfer connected), answered (in a queue), callback, sms,
abandoned (in a queue), else ivr.

Revision ID: 0004_call_outcome
Revises: 0003_privacy
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_call_outcome"
down_revision: str | None = "0003_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the value set and the rule at this revision (see 0001).
CALL_OUTCOMES = (
    "transferred",
    "answered",
    "callback",
    "sms",
    "abandoned",
    "ivr",
    "unresolved",
    "in_progress",
)
OUTCOME_OF_EXISTING_CALLS = """
UPDATE calls SET outcome = CASE
    WHEN state = 'active' THEN 'in_progress'
    WHEN state = 'unresolved' THEN 'unresolved'
    WHEN EXISTS (SELECT 1 FROM transfers t
                 WHERE t.call_sid = calls.call_sid AND t.outcome = 'connected') THEN 'transferred'
    WHEN EXISTS (SELECT 1 FROM queue_visits v
                 WHERE v.call_sid = calls.call_sid AND v.ended = 'answered') THEN 'answered'
    WHEN EXISTS (SELECT 1 FROM callbacks b WHERE b.call_sid = calls.call_sid) THEN 'callback'
    WHEN EXISTS (SELECT 1 FROM sms_messages s WHERE s.call_sid = calls.call_sid) THEN 'sms'
    WHEN EXISTS (SELECT 1 FROM queue_visits v
                 WHERE v.call_sid = calls.call_sid AND v.ended = 'abandoned') THEN 'abandoned'
    ELSE 'ivr'
END
"""


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def upgrade() -> None:
    op.add_column("calls", sa.Column("outcome", sa.String(16), nullable=True))
    op.execute(OUTCOME_OF_EXISTING_CALLS)
    with op.batch_alter_table("calls") as batch:
        batch.alter_column("outcome", existing_type=sa.String(16), nullable=False)
        batch.create_check_constraint("outcome", _one_of("outcome", CALL_OUTCOMES))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint("outcome", type_="check")
        batch.drop_column("outcome")
