"""The rules the registry re-applies to every triaged report, whoever wrote it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from tests.support.factories import triaged
from vigie.contracts import (
    DeviceRef,
    RegulatoryAssessment,
    ReportedOutcome,
    Severity,
    TelemetryWindow,
)
from vigie.rules.deadlines import assess
from vigie.rules.integrity import telemetry_violations, triage_violations
from vigie.topics import device_telemetry_topic, telemetry_pattern

KEY = b"registry-key"


def test_what_triage_produces_is_accepted() -> None:
    for outcome in ReportedOutcome:
        event = triaged(
            outcome=outcome, narrative="Patient J. Doe, NIR 1 84 12 75 115 003 42, was harmed."
        )
        assert triage_violations(event, key=KEY) == []


def test_a_forged_triage_below_the_reported_outcome_is_refused() -> None:
    # What an outsider produced straight to the topic: death reported, "other" recorded,
    # no deadline, no alert.
    honest = triaged(outcome=ReportedOutcome.DEATH)
    forged = honest.model_copy(
        update={
            "triage": honest.triage.model_copy(
                update={"severity": Severity.OTHER, "reported_severity": Severity.OTHER}
            ),
            "regulatory": RegulatoryAssessment(
                serious_incident=False, clock_start=date(2026, 3, 1), obligations=[]
            ),
        }
    )
    problems = triage_violations(forged, key=KEY)
    assert any("reported_severity" in p for p in problems)
    assert any("below the reported outcome" in p for p in problems)
    assert any("regulatory assessment" in p for p in problems)


def test_a_moved_deadline_is_refused() -> None:
    event = triaged(outcome=ReportedOutcome.SERIOUS_DETERIORATION)
    assert event.regulatory.deadline is not None
    later = event.model_copy(
        update={"regulatory": event.regulatory.model_copy(update={"deadline": date(2099, 1, 1)})}
    )
    assert triage_violations(later, key=KEY) == [
        "regulatory assessment does not follow from the report and its severity "
        "(deadline, obligations or seriousness differ)"
    ]


def test_an_unscrubbed_narrative_is_refused() -> None:
    event = triaged()
    leaked = event.model_copy(
        update={
            "report": event.report.model_copy(
                update={"narrative": "Mme Marie Durand, NIR 2 84 12 75 115 003 42, fell."}
            )
        }
    )
    assert triage_violations(leaked, key=KEY) == [
        "narrative carries identifiers that scrubbing removes"
    ]


def test_a_raised_severity_is_the_model_s_right() -> None:
    event = triaged(outcome=ReportedOutcome.NO_HARM)
    raised = event.model_copy(
        update={"triage": event.triage.model_copy(update={"severity": Severity.SERIOUS})}
    )
    # Raising is allowed, but the legal reading must then follow the raised severity.
    assert triage_violations(raised, key=KEY) != []

    consistent = raised.model_copy(update={"regulatory": assess(raised.report, Severity.SERIOUS)})
    assert triage_violations(consistent, key=KEY) == []


def _window(manufacturer: str) -> TelemetryWindow:
    return TelemetryWindow(
        device=DeviceRef(name="Sepsis Watch", manufacturer=manufacturer, model_version="2"),
        window_start=datetime(2026, 1, 1, tzinfo=UTC),
        window_end=datetime(2026, 1, 1, 1, tzinfo=UTC),
        n_predictions=10,
    )


def test_a_device_topic_accepts_its_manufacturer_s_devices_only() -> None:
    shared = "ns.vigie.telemetry.v1"
    acme = device_telemetry_topic(shared, "Acme Health S.A.")
    assert acme == "ns.vigie.telemetry.v1.device.acme-health-s-a"
    assert re.fullmatch(telemetry_pattern(shared), acme)
    assert re.fullmatch(telemetry_pattern(shared), shared)
    assert not re.fullmatch(telemetry_pattern(shared), shared + ".dlq")
    assert not re.fullmatch(telemetry_pattern(shared), acme + ".dlq")
    assert (
        telemetry_violations(_window("ACME health s.a."), topic=acme, telemetry_topic=shared) == []
    )
    [problem] = telemetry_violations(_window("Globex"), topic=acme, telemetry_topic=shared)
    assert "Globex" in problem and "acme-health-s-a" in problem
    # The shared topic is written by ingest (token checked) and triage: any manufacturer.
    assert telemetry_violations(_window("Globex"), topic=shared, telemetry_topic=shared) == []


def test_identifiers_hidden_by_unicode_tricks_are_still_scrubbed() -> None:
    event = triaged()
    for narrative in (
        "NIR １ ８４ １２ ７５ １１５ ００３ ４２ noted.",  # fullwidth digits
        "Call 06\u200b12 34 56 78 about it.",  # zero-width space inside a phone number
        "Write to a.b＠hopital.fr about it.",  # fullwidth at sign
    ):
        leaked = event.model_copy(
            update={"report": event.report.model_copy(update={"narrative": narrative})}
        )
        assert triage_violations(leaked, key=KEY) == [
            "narrative carries identifiers that scrubbing removes"
        ], narrative
