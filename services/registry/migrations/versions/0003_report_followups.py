"""Reporters' follow-ups: what a reporter added to a report after sending it, and what it did
to the case (severity and legal deadline before and after).

Revision 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_followup",
        sa.Column("followup_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("awareness_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("severity_before", sa.String(length=20), nullable=False),
        sa.Column("severity_after", sa.String(length=20), nullable=False),
        sa.Column("deadline_before", sa.Date(), nullable=True),
        sa.Column("deadline_after", sa.Date(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.case_id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.report_id"]),
        sa.PrimaryKeyConstraint("followup_id"),
    )
    op.create_index("ix_report_followup_report_id", "report_followup", ["report_id"], unique=False)
    op.create_index("ix_report_followup_case_id", "report_followup", ["case_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the registry does not downgrade; restore a backup instead")
