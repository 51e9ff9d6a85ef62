"""A return's note: with the reason `other`, the agent's few words why the caller came back.

Free text an agent writes, so it is capped (200 characters) and must not hold personal data
(no names, numbers or case details): the API says so, and it goes with its return when the
retention purge deletes the return.

Revision ID: 0006_return_note
Revises: 0005_staff_accounts
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_return_note"
down_revision: str | None = "0005_staff_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the cap at this revision (see 0001).
NOTE_MAX_CHARS = 200


def upgrade() -> None:
    op.add_column("returns", sa.Column("note", sa.String(NOTE_MAX_CHARS), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("returns") as batch:
        batch.drop_column("note")
