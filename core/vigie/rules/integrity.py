"""What every recorded report must satisfy, whoever produced the event that carries it.

The registry records what arrives on ``vigie.reports.triaged.v1``; only triage may write that
topic, but a consumer never trusts a topic more than its writers, and a writer can be
misconfigured, out of date or compromised. So the registry re-applies, with the very functions
triage uses, the rules a vigilance record cannot break:

- the reported outcome is a floor: the severity it implies is recorded as such, and the final
  severity is never below it;
- the legal reading (serious incident, obligations, deadline) follows from the report and the
  final severity (:func:`vigie.rules.deadlines.assess`);
- the narrative and the AI's output are scrubbed (:func:`vigie.rules.privacy.scrub` changes
  nothing more); the patient pseudonym's form is the contract's to check.

An event that breaks one is refused (dead-lettered with the reasons), never recorded. Device
telemetry is held to the same standard: a window is accepted from a manufacturer's device topic
only for that manufacturer's devices (:func:`telemetry_violations`).
"""

from __future__ import annotations

from collections.abc import Callable

from vigie.contracts import ReportTriaged, TelemetryWindow
from vigie.rules.deadlines import SEVERITY_OF_OUTCOME, assess
from vigie.rules.privacy import scrub
from vigie.topics import slug, writer_manufacturer


def triage_violations(event: ReportTriaged, *, key: bytes) -> list[str]:
    """The rules ``event`` breaks (empty when it may be recorded)."""
    report, triage = event.report, event.triage
    problems: list[str] = []
    floor = SEVERITY_OF_OUTCOME[report.outcome]
    if triage.reported_severity is not floor:
        problems.append(
            f"reported_severity {triage.reported_severity.value!r} is not the severity the "
            f"reported outcome {report.outcome.value!r} implies ({floor.value!r})"
        )
    if triage.severity.rank > floor.rank:  # rank 0 is the most severe
        problems.append(
            f"severity {triage.severity.value!r} is below the reported outcome "
            f"{report.outcome.value!r}"
        )
    if event.regulatory != assess(report, triage.severity):
        problems.append(
            "regulatory assessment does not follow from the report and its severity "
            "(deadline, obligations or seriousness differ)"
        )
    if scrub(report.narrative, key=key) != report.narrative:
        problems.append("narrative carries identifiers that scrubbing removes")
    output = report.ai.output if report.ai is not None else None
    if output and scrub(output, key=key) != output:
        problems.append("the AI's output carries identifiers that scrubbing removes")
    return problems


def telemetry_check(telemetry_topic: str) -> Callable[[TelemetryWindow, str], list[str]]:
    """:func:`telemetry_violations` for the consumers of ``telemetry_topic`` and its device
    topics, in the form :class:`vigie.processing.BatchStep` takes as ``check``."""

    def check(window: TelemetryWindow, topic: str) -> list[str]:
        return telemetry_violations(window, topic=topic, telemetry_topic=telemetry_topic)

    return check


def telemetry_violations(window: TelemetryWindow, *, topic: str, telemetry_topic: str) -> list[str]:
    """Why ``window``, read from ``topic``, may not be accepted (empty when it may).

    A device topic (``<telemetry>.device.<manufacturer>``) is writable by that manufacturer's
    principal alone, so it vouches for that manufacturer's devices and no other: a window
    naming another manufacturer's device is refused, whatever it claims.
    """
    owner = writer_manufacturer(telemetry_topic, topic)
    if owner is not None and slug(window.device.manufacturer) != owner:
        return [
            f"window of a {window.device.manufacturer!r} device on the telemetry topic of "
            f"manufacturer {owner!r}"
        ]
    return []
