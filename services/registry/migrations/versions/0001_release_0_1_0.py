"""Release 0.1.0's schema (2026-11-23, commit 1719fed), as its ``create_all`` made it.

Revision 0001, the first. Written out as explicit operations so that later model changes never
alter it; ``tests/data/registry-0.1.0.*.sql`` hold the DDL that release generated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum("CLINICIAN", "DEVICE", "MANUFACTURER", "REGULATOR", "ADMIN", name="role"),
            nullable=False,
        ),
        sa.Column("manufacturer", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "audit_record",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index(op.f("ix_audit_record_case_id"), "audit_record", ["case_id"], unique=False)
    op.create_table(
        "case",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "TRIAGED",
                "UNDER_ASSESSMENT",
                "AWAITING_MANUFACTURER",
                "REPORTED_TO_AUTHORITY",
                "CLOSED",
                name="casestatus",
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=1000), nullable=True),
        sa.Column(
            "severity",
            sa.Enum("DEATH", "SERIOUS", "MALFUNCTION", "OTHER", name="severity"),
            nullable=False,
        ),
        sa.Column("serious_incident", sa.Boolean(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("merged_into", sa.Uuid(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["case.case_id"],
        ),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(
        "ix_case_manufacturer_deadline", "case", ["manufacturer_key", "deadline"], unique=False
    )
    op.create_index(op.f("ix_case_needs_review"), "case", ["needs_review"], unique=False)
    op.create_index("ix_case_status_deadline", "case", ["status", "deadline"], unique=False)
    op.create_table(
        "device",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("name_key", sa.String(length=1000), nullable=False),
        sa.Column("manufacturer", sa.String(length=1000), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=1000), nullable=False),
        sa.Column("udi_di", sa.String(length=100), nullable=True),
        sa.Column("risk_class", sa.String(length=60), nullable=True),
        sa.Column("submission_number", sa.String(length=40), nullable=True),
        sa.Column("pathway", sa.String(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("clinical_domain", sa.String(length=100), nullable=True),
        sa.Column("device_function", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_index(
        op.f("ix_device_manufacturer_key"), "device", ["manufacturer_key"], unique=False
    )
    op.create_index(op.f("ix_device_name_key"), "device", ["name_key"], unique=False)
    op.create_index(op.f("ix_device_udi_di"), "device", ["udi_di"], unique=False)
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=250), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_outbox_event_published_at"), "outbox_event", ["published_at"], unique=False
    )
    op.create_table(
        "report",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("tracking_number", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ADVERSE_EVENT", "INAPPROPRIATE_AI_SUGGESTION", "NEAR_MISS", name="reportkind"),
            nullable=False,
        ),
        sa.Column(
            "reporter_role",
            sa.Enum(
                "PHYSICIAN",
                "NURSE",
                "PHARMACIST",
                "OTHER_HEALTH_PROFESSIONAL",
                "VIGILANCE_CORRESPONDENT",
                "MANUFACTURER",
                "PATIENT",
                name="reporterrole",
            ),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("establishment", sa.String(), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("udi_di", sa.String(length=100), nullable=True),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("is_medical_device", sa.Boolean(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("awareness_date", sa.Date(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "DEATH",
                "SERIOUS_DETERIORATION",
                "INJURY",
                "NO_HARM",
                "UNKNOWN",
                name="reportedoutcome",
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum("DEATH", "SERIOUS", "MALFUNCTION", "OTHER", name="severity"),
            nullable=False,
        ),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("review_reasons", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("triage_model_version", sa.String(), nullable=True),
        sa.Column("serious_incident", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=200), nullable=False),
        sa.Column("patient_pseudonym", sa.String(length=40), nullable=True),
        sa.Column("reporter_ref", sa.String(length=40), nullable=True),
        sa.Column("status_token_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("report_id"),
    )
    op.create_index(op.f("ix_report_country"), "report", ["country"], unique=False)
    op.create_index(op.f("ix_report_deadline"), "report", ["deadline"], unique=False)
    op.create_index(op.f("ix_report_device_name"), "report", ["device_name"], unique=False)
    op.create_index(
        "ix_report_manufacturer_submitted",
        "report",
        ["manufacturer_key", "submitted_at"],
        unique=False,
    )
    op.create_index(op.f("ix_report_reporter_ref"), "report", ["reporter_ref"], unique=False)
    op.create_index(op.f("ix_report_severity"), "report", ["severity"], unique=False)
    op.create_index(
        op.f("ix_report_status_token_hash"), "report", ["status_token_hash"], unique=False
    )
    op.create_index("ix_report_submitted", "report", ["submitted_at", "report_id"], unique=False)
    op.create_index(op.f("ix_report_tracking_number"), "report", ["tracking_number"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("sub_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=42), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=250), nullable=False),
        sa.Column("severities", sa.String(), nullable=False),
        sa.Column("alert_types", sa.String(), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=200), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sub_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index(op.f("ix_subscription_owner"), "subscription", ["owner"], unique=False)
    op.create_table(
        "case_report",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.Enum("PRIMARY", "LINKED", "MERGED", name="linkrole"), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.case_id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.report_id"],
        ),
        sa.PrimaryKeyConstraint("case_id", "report_id"),
    )
    op.create_index(op.f("ix_case_report_report_id"), "case_report", ["report_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sub_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("outbox_event_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sub_id"],
            ["subscription.sub_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_event_id"),
    )
    op.create_index(op.f("ix_delivery_sub_id"), "delivery", ["sub_id"], unique=False)
    op.create_table(
        "device_model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.device_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "model_version"),
    )
    op.create_index(
        op.f("ix_device_model_version_device_id"),
        "device_model_version",
        ["device_id"],
        unique=False,
    )
    op.create_table(
        "mir_report",
        sa.Column("mir_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column(
            "report_type",
            sa.Enum("INITIAL", "FOLLOW_UP", "COMBINED_INITIAL_FINAL", "FINAL", name="mirtype"),
            nullable=False,
        ),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.case_id"],
        ),
        sa.PrimaryKeyConstraint("mir_id"),
    )
    op.create_index(op.f("ix_mir_report_case_id"), "mir_report", ["case_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the registry does not downgrade; restore a backup instead")
