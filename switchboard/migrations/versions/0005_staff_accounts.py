"""Staff sign-in: local accounts (`switchboard user ...`), each with a role, a department for a
department lead, and a link to the agent roster for an agent.

Revision ID: 0005_staff_accounts
Revises: 0004_call_outcome
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_staff_accounts"
down_revision: str | None = "0004_call_outcome"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types and value sets at this revision (see 0001).
UTC_TIME = sa.DateTime(timezone=True)
ROLES = ("agent", "department_lead", "manager", "operator")


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("password_changed_at", UTC_TIME, nullable=True),
        sa.Column("last_sign_in_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_accounts"),
        sa.UniqueConstraint("username", name="uq_staff_accounts_username"),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")",
            name="ck_staff_accounts_role",
        ),
        sa.CheckConstraint(
            "(role = 'department_lead') = (department IS NOT NULL)",
            name="ck_staff_accounts_lead_department",
        ),
    )


def downgrade() -> None:
    op.drop_table("staff_accounts")
