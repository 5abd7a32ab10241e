"""From release 0.1.0 to the models that followed it: dashboard sessions, status tokens by hash,
statistical and drift signals, telemetry usage, token expiry and use, audit state digests, the
structured AI part of a report and its patient's age band and sex, indexes for the paged lists.

Revision 0002, after 0001. Databases made by the code between 0.1.0 and migrations (``create_all``
then ``add_missing_columns``) already hold part of this: each operation is skipped when what it
makes is already there, so such a database, stamped at 0001, upgrades like a 0.1.0 one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def _create_table(name: str, *elements: Any) -> None:
    if not _inspector().has_table(name):
        op.create_table(name, *elements)


def _add_column(table: str, column: sa.Column[Any]) -> None:
    if column.name not in {c["name"] for c in _inspector().get_columns(table)}:
        op.add_column(table, column)


def _indexes(table: str) -> set[str]:
    return {str(index["name"]) for index in _inspector().get_indexes(table)}


def _create_index(name: str, table: str, columns: list[str], *, unique: bool) -> None:
    if name not in _indexes(table):
        op.create_index(name, table, columns, unique=unique)


def _drop_index(name: str, *, table_name: str) -> None:
    if name in _indexes(table_name):
        op.drop_index(name, table_name=table_name)


def upgrade() -> None:
    _create_table(
        "dashboard_session",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_token", sa.String(length=2048), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    _create_table(
        "report_status_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    _create_index(
        "ix_report_status_token_report_id", "report_status_token", ["report_id"], unique=False
    )
    _create_table(
        "statistical_signal",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=200), nullable=False),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _create_index(
        "ix_statistical_signal_manufacturer_key",
        "statistical_signal",
        ["manufacturer_key"],
        unique=False,
    )
    _create_table(
        "drift_signal",
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("detector", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column(
            "severity", sa.Enum("LOW", "MEDIUM", "HIGH", name="signalseverity"), nullable=False
        ),
        sa.Column("also_drifted", sa.String(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("reference_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manufacturer_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.device_id"],
        ),
        sa.PrimaryKeyConstraint("signal_id"),
    )
    _create_index("ix_drift_signal_device_id", "drift_signal", ["device_id"], unique=False)
    _create_index(
        "ix_drift_signal_manufacturer_key", "drift_signal", ["manufacturer_key"], unique=False
    )
    _create_index(
        "ix_drift_signal_recorded", "drift_signal", ["recorded_at", "signal_id"], unique=False
    )
    _create_index("ix_drift_signal_severity", "drift_signal", ["severity"], unique=False)
    _create_table(
        "telemetry_usage",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("model_version", sa.String(length=100), nullable=False),
        sa.Column("window_day", sa.Date(), nullable=False),
        sa.Column("n_predictions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.device_id"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    _create_index(
        "ix_usage_device_day", "telemetry_usage", ["device_id", "window_day"], unique=False
    )
    _add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    _add_column("api_token", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    _add_column("audit_record", sa.Column("state_digest", sa.String(length=64), nullable=True))
    _drop_index("ix_case_status_deadline", table_name="case")
    _create_index(
        "ix_case_deadline_opened", "case", ["deadline", "opened_at", "case_id"], unique=False
    )
    _create_index("ix_case_opened", "case", ["opened_at", "case_id"], unique=False)
    _add_column("report", sa.Column("ai_task", sa.String(length=40), nullable=True))
    _add_column("report", sa.Column("ai_output", sa.Text(), nullable=True))
    _add_column("report", sa.Column("ai_output_confidence", sa.Float(), nullable=True))
    _add_column("report", sa.Column("ai_clinician_action", sa.String(length=40), nullable=True))
    _add_column("report", sa.Column("ai_patient_exposed", sa.Boolean(), nullable=True))
    _add_column("report", sa.Column("ai_input_data_problems", sa.String(length=200), nullable=True))
    _add_column("report", sa.Column("patient_age_band", sa.String(length=10), nullable=True))
    _add_column("report", sa.Column("patient_sex", sa.String(length=10), nullable=True))
    _create_index(
        "ix_report_country_severity",
        "report",
        ["country", "severity", "submitted_at"],
        unique=False,
    )
    _create_index(
        "ix_report_severity_submitted",
        "report",
        ["severity", "submitted_at", "report_id"],
        unique=False,
    )


def downgrade() -> None:
    raise NotImplementedError("the registry does not downgrade; restore a backup instead")
