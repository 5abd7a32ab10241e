"""Event contracts: the Pydantic models of every message Vigie puts on Kafka.

This module is the single source of the wire format. ``schemas/`` is generated from it
(``vigie schemas``) and a test fails when the two disagree. Within a topic version changes are
additive only; consumers ignore unknown fields so that producers can add them first.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

# "ps<version>:" and 32 hex digits: the version is the pseudonym key's (1 to 999), so the key
# can rotate and a pseudonym still says which key made it.
PSEUDONYM_PATTERN = r"^ps[1-9][0-9]{0,2}:[0-9a-f]{32}$"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


# Dates a vigilance report can carry: deadlines are computed from them, and a date near the end
# of the calendar would overflow that computation. Ingest also refuses dates in the future.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2199, 12, 31)


# Control characters no text of a report needs (tab, line feed and carriage return are kept):
# PostgreSQL refuses NUL in text, and the others only hide text from a reader. Lone UTF-16
# surrogates (JSON's "\ud800") are no characters at all: no encoding can write them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def no_control_characters(value: object) -> object:
    """``value`` unchanged, or ValueError when it is text holding a control character."""
    if isinstance(value, str) and (found := _CONTROL.search(value)):
        raise ValueError(f"control character U+{ord(found.group()):04X} at {found.start()}")
    return value


class Event(BaseModel):
    """Envelope shared by every event: identity, contract version and time of the fact."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return no_control_characters(value)

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        description="Unique id of this event; consumers de-duplicate on it.",
    )
    schema_version: int = Field(
        default=1, description="Version of the contract the event follows (additive within it)."
    )
    occurred_at: AwareDatetime = Field(
        default_factory=utcnow, description="When the fact the event describes happened (UTC)."
    )


class Part(BaseModel):
    """Base of nested value objects."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        return no_control_characters(value)


# --- vocabularies -------------------------------------------------------------------------


class ReportKind(StrEnum):
    """What the reporter is telling the authority about."""

    ADVERSE_EVENT = "adverse_event"
    INAPPROPRIATE_AI_SUGGESTION = "inappropriate_ai_suggestion"
    NEAR_MISS = "near_miss"


class ReporterRole(StrEnum):
    """Who wrote the report."""

    PHYSICIAN = "physician"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    OTHER_HEALTH_PROFESSIONAL = "other_health_professional"
    VIGILANCE_CORRESPONDENT = "vigilance_correspondent"
    MANUFACTURER = "manufacturer"
    PATIENT = "patient"


class ReportedOutcome(StrEnum):
    """Outcome for the patient as stated by the reporter (never downgraded by the platform)."""

    DEATH = "death"
    SERIOUS_DETERIORATION = "serious_deterioration"
    INJURY = "injury"
    NO_HARM = "no_harm"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """Severity assigned by triage, from most to least severe."""

    DEATH = "death"
    SERIOUS = "serious"
    MALFUNCTION = "malfunction"
    OTHER = "other"

    @property
    def rank(self) -> int:
        """0 for the most severe; lower is worse."""
        return list(Severity).index(self)

    def worst(self, other: Severity) -> Severity:
        """The more severe of the two."""
        return self if self.rank <= other.rank else other


class AiSuggestionCategory(StrEnum):
    """Kind of inappropriate AI suggestion, in the words a vigilance officer uses.

    Triage's classifier predicts it, reviewers correct it, the registry and alerts carry it: the
    vocabulary belongs to the contract, not to one service.
    """

    MISSED_FINDING = "missed_finding"
    FALSE_OR_MISLEADING_OUTPUT = "false_or_misleading_output"
    UNSAFE_RECOMMENDATION = "unsafe_recommendation"
    BIAS_AGAINST_GROUP = "bias_against_group"
    OVER_RELIANCE = "over_reliance"
    PRIVACY_OR_SECURITY = "privacy_or_security"
    MALFUNCTION = "malfunction"
    OTHER = "other"


class AiTask(StrEnum):
    """What the AI was doing for the clinician when it went wrong."""

    DETECTION = "detection"
    DIAGNOSIS = "diagnosis"
    TRIAGE = "triage"
    DOSING = "dosing"
    PREDICTION = "prediction"
    GENERATION = "generation"
    OTHER = "other"


class ClinicianAction(StrEnum):
    """What the clinician did with the AI's output: the use side of a device problem."""

    FOLLOWED = "followed"
    PARTLY_FOLLOWED = "partly_followed"
    OVERRODE = "overrode"
    DID_NOT_SEE = "did_not_see"


class InputDataProblem(StrEnum):
    """A problem with the data the AI was given, rather than with the model itself."""

    MISSING = "missing"
    WRONG = "wrong"
    OUT_OF_INTENDED_POPULATION = "out_of_intended_population"


class AgeBand(StrEnum):
    """The patient's age, in bands wide enough not to single anyone out."""

    UNDER_18 = "0-17"
    FROM_18_TO_44 = "18-44"
    FROM_45_TO_64 = "45-64"
    FROM_65_TO_79 = "65-79"
    FROM_80 = "80+"


class PatientSex(StrEnum):
    """The patient's administrative sex (FHIR AdministrativeGender)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Language(StrEnum):
    """Language of the free-text narrative."""

    FR = "fr"
    EN = "en"


class AlertType(StrEnum):
    """Why an alert was raised."""

    SERIOUS_INCIDENT = "serious_incident"
    DRIFT = "drift"
    STATISTICAL_SIGNAL = "statistical_signal"


class Framework(StrEnum):
    """Legal framework that creates a reporting obligation."""

    EU_MDR = "EU MDR 2017/745"
    EU_AI_ACT = "EU AI Act 2024/1689"
    US_FDA = "US 21 CFR 803"


# --- parts --------------------------------------------------------------------------------


class DeviceRef(Part):
    """The AI device (and model version) a report or telemetry window is about."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Trade name of the device.",
        examples=["Veye Lung Nodules"],
    )
    manufacturer: str = Field(
        min_length=1,
        max_length=200,
        description="Legal manufacturer as on the label.",
        examples=["Aidence B.V."],
    )
    udi_di: str | None = Field(
        default=None,
        max_length=100,
        description="UDI device identifier (GS1/HIBCC/ICCBBA), when known.",
        examples=["08720299160012"],
    )
    model_version: str = Field(
        min_length=1,
        max_length=100,
        description="Version of the AI model that produced the output.",
        examples=["3.2.1"],
    )
    software_version: str | None = Field(
        default=None, max_length=100, description="Version of the device software, if distinct."
    )
    catalogue_id: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Id of the device in the registry's catalogue when the reporter chose it "
        "there (name and manufacturer then spelled as the catalogue spells them); absent when "
        "the device was typed freely.",
        examples=["DEV_00001"],
    )

    @field_validator("manufacturer")
    @classmethod
    def _fits_once_case_folded(cls, value: str) -> str:
        # Consumers key manufacturers by their case-folded name ("ß" becomes "ss"): the limit
        # must hold for that form too, or a database refuses what the contract accepted.
        folded = len(value.casefold())
        if folded > 200:
            raise ValueError(f"at most 200 characters once case-folded (here {folded})")
        return value


class AiInvolvement(Part):
    """The AI part of a report: what the AI did, what it output, what the clinician did with
    it, and the data it was given. Every field is optional: a reporter says what they know."""

    task: AiTask | None = Field(default=None, description="Task the AI performed.")
    output: str | None = Field(
        default=None,
        max_length=2000,
        description="What the AI output, as the clinician saw it (identifiers removed before "
        "publication).",
        examples=["No nodule detected."],
    )
    output_confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Confidence the AI showed with its output, from 0 to 1, if it showed one.",
    )
    clinician_action: ClinicianAction | None = Field(
        default=None, description="What the clinician did with the output."
    )
    patient_exposed: bool | None = Field(
        default=None, description="The output reached the patient's care (acted on or not)."
    )
    input_data_problems: list[InputDataProblem] = Field(
        default_factory=list,
        max_length=len(InputDataProblem),
        description="Problems with the data the AI was given, each at most once.",
    )
    patient_age_band: AgeBand | None = Field(
        default=None, description="Age band of the patient (for bias signals; no birth date)."
    )
    patient_sex: PatientSex | None = Field(
        default=None, description="Administrative sex of the patient (for bias signals)."
    )

    @field_validator("input_data_problems")
    @classmethod
    def _each_once(cls, value: list[InputDataProblem]) -> list[InputDataProblem]:
        if len(set(value)) != len(value):
            raise ValueError("each input data problem at most once")
        return value


class ReportingObligation(Part):
    """One legal reporting duty triggered by a report, with its deadline."""

    framework: Framework = Field(description="Law that creates the duty.")
    article: str = Field(
        description="Article and paragraph that sets the deadline.", examples=["Art. 87(5)"]
    )
    days: int = Field(ge=0, description="Calendar days from the clock start.")
    due_date: date = Field(description="Last day to report to the competent authority.")
    reason: str = Field(description="Why this duty applies to this report.")


class RegulatoryAssessment(Part):
    """The legal reading of a report: is it a serious incident, and by when must it be reported."""

    serious_incident: bool = Field(
        description="Serious incident in the sense of MDR Art. 2(65) or AI Act Art. 3(49)."
    )
    clock_start: date = Field(description="Day the clock starts: the awareness date.")
    obligations: list[ReportingObligation] = Field(
        default_factory=list, description="Every duty that applies, earliest deadline first."
    )
    deadline: date | None = Field(
        default=None, description="Earliest due date among the obligations."
    )
    trend_reportable: bool = Field(
        default=False,
        description="Non-serious incident counted for MDR Art. 88 trend reporting.",
    )


class CodeSuggestion(Part):
    """An IMDRF adverse-event term suggested by the classifier (a suggestion, not a fact)."""

    annex: Literal["A", "D", "E", "F"] = Field(description="IMDRF AET annex.")
    code: str = Field(description="IMDRF code.", examples=["A11"])
    term: str = Field(description="IMDRF preferred term.", examples=["Computer Software Problem"])
    probability: float = Field(ge=0, le=1, description="Calibrated probability of the suggestion.")


class TriageResult(Part):
    """What triage concluded about a report, and how sure it is."""

    severity: Severity = Field(description="Final severity: never below the reported outcome.")
    reported_severity: Severity = Field(description="Severity implied by the reported outcome.")
    model_severity: Severity | None = Field(
        default=None, description="Severity the classifier read in the narrative, if a model ran."
    )
    severity_probabilities: dict[str, float] = Field(
        default_factory=dict, description="Calibrated probability of each severity (model)."
    )
    category: AiSuggestionCategory | None = Field(
        default=None, description="Category of an inappropriate AI suggestion (model)."
    )
    category_probability: float | None = Field(default=None, ge=0, le=1)
    imdrf_codes: list[CodeSuggestion] = Field(default_factory=list)
    confidence: float | None = Field(
        default=None, ge=0, le=1, description="Model confidence in its severity reading."
    )
    needs_review: bool = Field(
        default=False, description="A human must confirm this triage before it is final."
    )
    review_reasons: list[str] = Field(default_factory=list)
    model_version: str | None = Field(
        default=None, description="Version (content hash) of the model artefact, if a model ran."
    )


class Histogram(Part):
    """Counts of values in consecutive bins; ``edges`` has one more item than ``counts``."""

    edges: list[float] = Field(min_length=2, max_length=1001)
    counts: list[int] = Field(min_length=1, max_length=1000)


class FeatureSummary(Part):
    """Summary of one input feature over a telemetry window."""

    name: str = Field(min_length=1, max_length=200)
    count: int = Field(ge=0)
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    histogram: Histogram | None = None
    sample: list[float] | None = Field(default=None, max_length=10_000)


class ConfusionCounts(Part):
    """Predictions checked against confirmed outcomes during the window."""

    true_positive: int = Field(ge=0)
    false_positive: int = Field(ge=0)
    true_negative: int = Field(ge=0)
    false_negative: int = Field(ge=0)


# --- events -------------------------------------------------------------------------------


class ReportSubmitted(Event):
    """A clinician, correspondent or manufacturer submitted an incident report."""

    report_id: uuid.UUID = Field(description="Id of the report; the registry upserts on it.")
    tracking_number: str = Field(
        pattern=r"^VG-[0-9A-Z]{4}-[0-9A-Z]{4}$",
        description="Short number quoted to the reporter.",
        examples=["VG-7K2D-9QXM"],
    )
    kind: ReportKind
    reporter_role: ReporterRole
    reporter_ref: str | None = Field(
        default=None,
        pattern=PSEUDONYM_PATTERN,
        description="Pseudonym of the authenticated reporter, when the report came with a token.",
    )
    establishment: str | None = Field(
        default=None, max_length=200, description="Health establishment of the reporter."
    )
    country: str = Field(
        default="FR",
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 country where the incident happened.",
    )
    device: DeviceRef
    is_medical_device: bool = Field(
        default=True,
        description="The AI is (part of) a medical device: health harm goes through MDR "
        "vigilance (AI Act Art. 73(10)).",
    )
    event_date: date | None = Field(
        default=None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="Day the incident happened.",
    )
    awareness_date: date = Field(
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="Day the reporter became aware of the incident (starts the legal clock).",
    )
    outcome: ReportedOutcome
    public_health_threat: bool = Field(
        default=False, description="Reporter sees a serious public health threat (MDR Art. 2(66))."
    )
    fundamental_rights_concern: bool = Field(
        default=False,
        description="Infringement of fundamental-rights obligations (AI Act Art. 3(49)(c)).",
    )
    language: Language
    narrative: str = Field(
        min_length=10,
        max_length=20_000,
        description="What happened, in the reporter's words (identifiers "
        "removed before publication).",
    )
    patient_pseudonym: str | None = Field(
        default=None,
        pattern=PSEUDONYM_PATTERN,
        description="Keyed hash of the patient identifier; the clear identifier never travels.",
    )
    status_token_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the secret in the reporter's status link.",
    )
    ai: AiInvolvement | None = Field(
        default=None,
        description="The AI part of the report, structured; absent from reports that did "
        "not give it.",
    )


class ReportFollowedUp(Event):
    """A reporter added information to a report already sent, through its status link: text,
    and the patient's outcome if it changed (e.g. the patient died later)."""

    followup_id: uuid.UUID = Field(
        description="Id of the follow-up, derived from the report, the body and the "
        "Idempotency-Key: a retry is the same follow-up; the registry records it once."
    )
    report_id: uuid.UUID = Field(description="The report the follow-up adds to.")
    tracking_number: str = Field(
        pattern=r"^VG-[0-9A-Z]{4}-[0-9A-Z]{4}$",
        description="Tracking number of that report.",
        examples=["VG-7K2D-9QXM"],
    )
    status_token_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the status link's secret the follow-up came through (ingest "
        "checked it with the registry; the secret itself never travels).",
    )
    language: Language
    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=5000,
        description="What the reporter adds, in their words (identifiers removed before "
        "publication).",
    )
    outcome: ReportedOutcome | None = Field(
        default=None,
        description="The patient's outcome as it is now, when it changed since the report.",
    )
    awareness_date: date | None = Field(
        default=None,
        ge=EARLIEST_DATE,
        le=LATEST_DATE,
        description="Day the reporter learned of the new outcome: a worse outcome's legal "
        "clock starts then (the day the follow-up was sent, when absent).",
    )

    @model_validator(mode="after")
    def _says_something(self) -> ReportFollowedUp:
        if self.text is None and self.outcome is None:
            raise ValueError("a follow-up carries text, an outcome or both")
        return self


class ReportTriaged(Event):
    """Triage classified a report and assessed its legal deadline."""

    report: ReportSubmitted = Field(description="The report as submitted, pseudonymised.")
    triage: TriageResult
    regulatory: RegulatoryAssessment


class TelemetryWindow(Event):
    """An AI device summarised its own behaviour over a time window."""

    device: DeviceRef
    window_start: AwareDatetime
    window_end: AwareDatetime
    n_predictions: int = Field(ge=0, description="Predictions made in the window (usage).")
    score_histogram: Histogram | None = Field(
        default=None, description="Histogram of output scores."
    )
    score_sample: list[float] | None = Field(
        default=None, max_length=10_000, description="Sample of output scores."
    )
    features: list[FeatureSummary] = Field(default_factory=list, max_length=500)
    confusion: ConfusionCounts | None = None
    reference: bool = Field(
        default=False,
        description=(
            "This window is the reference for its device and model version (for example the "
            "validation data): drift is measured against it. It replaces any earlier reference; "
            "without one, the first windows of a model version become its reference."
        ),
    )


class Alert(Event):
    """Something a regulator must look at now, derived from committed registry state."""

    alert_type: AlertType
    case_id: uuid.UUID | None = Field(default=None, description="Registry case, if any.")
    report_id: uuid.UUID | None = None
    tracking_number: str | None = None
    severity: Severity
    device: DeviceRef
    country: str = Field(pattern=r"^[A-Z]{2}$")
    category: str | None = Field(
        default=None,
        description="AI-suggestion category of the case (AiSuggestionCategory), or what a signal "
        "is about (`drift:<subject>`).",
    )
    summary: str = Field(max_length=500, description="One line for the regulator's screen.")
    deadline: date | None = Field(default=None, description="Earliest legal deadline.")
    obligations: list[ReportingObligation] = Field(default_factory=list)
    registry_path: str = Field(description="Path of the case in the registry API.")


class TriageFeedback(Event):
    """A human reviewer confirmed or corrected a triage; the next training run learns from it."""

    report_id: uuid.UUID
    case_id: uuid.UUID
    kind: ReportKind
    language: Language
    narrative: str = Field(
        min_length=1, max_length=20_000, description="The pseudonymised narrative the model read."
    )
    model_version: str | None = Field(description="Model that produced the reviewed triage.")
    predicted_severity: Severity = Field(description="Severity triage had assigned.")
    decided_severity: Severity = Field(description="Severity the reviewer decided.")
    predicted_category: AiSuggestionCategory | None = None
    decided_category: AiSuggestionCategory | None = None
    reviewer_role: str = Field(max_length=20)
    reason: str = Field(max_length=1000)


class AuditCheckpoint(Event):
    """The head of the registry's audit chain, published as a witness outside the database.

    The chain alone shows any edit or removal inside it, but not the removal of its newest
    records, nor a chain rewritten end to end with fresh hashes; a head kept on Kafka does.
    """

    seq: int = Field(ge=1, description="Sequence number of the newest audit record.")
    head_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 chain hash of that record."
    )
    registry: str = Field(max_length=200, description="Registry (consumer group) that saw it.")
    key_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="Which signing key made `signature`: the first 16 hex digits of the SHA-256 "
        "of its raw Ed25519 public key.",
    )
    signature: str | None = Field(
        default=None,
        max_length=100,
        description="Ed25519 signature (base64) of the registry, sequence number and head hash, "
        "by the registry's audit signing key; a checkpoint without a valid one is ignored.",
    )


class SignalSeverity(StrEnum):
    """How urgently a signal needs a regulator's eyes."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class DriftDetected(Event):
    """A device's inputs, outputs or performance moved away from its reference."""

    signal_id: uuid.UUID = Field(description="Id of the signal; the registry upserts on it.")
    device: DeviceRef
    detector: str = Field(description="Detector that fired.", examples=["psi", "adwin"])
    subject: str = Field(description="What drifted: 'score', 'feature:<name>' or 'error_rate'.")
    statistic: float = Field(description="Value of the detector's statistic.")
    threshold: float = Field(description="Threshold the statistic crossed.")
    p_value: float | None = Field(
        default=None, ge=0, le=1, description="p-value where the test defines one (KS)."
    )
    reference_window: tuple[AwareDatetime, AwareDatetime] = Field(
        description="Start and end of the reference the window was compared with."
    )
    current_window: tuple[AwareDatetime, AwareDatetime] = Field(
        description="Start and end of the window where drift was detected."
    )
    severity: SignalSeverity
    also_drifted: list[str] = Field(
        default_factory=list,
        description="Other subjects of the same device that drifted in the same window.",
    )
    summary: str = Field(max_length=500)


class DriftReference(BaseModel):
    """The reference a device's windows are compared with: samples or summed histograms."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    samples: dict[str, list[float]] = Field(default_factory=dict)
    histograms: dict[str, tuple[list[float], list[float]]] = Field(
        default_factory=dict, description="Subject to (bin edges, counts)."
    )
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    windows: int = Field(default=0, ge=0, description="Windows taken into the reference.")
    explicit: bool = Field(default=False, description="Registered by the device, not learned.")


class DriftStreamState(Part):
    """A stream detector's state: the detector and parameters it was built with, and what it
    learnt (``snapshot``, read only into a detector built the same way)."""

    detector: str = Field(max_length=100)
    parameters: dict[str, str | float | int | bool] = Field(default_factory=dict)
    snapshot: dict[str, Any] = Field(default_factory=dict)


class DriftMonitorState(Event):
    """Where drift monitoring of one device and model version stands, so that whichever triage
    instance reads that device's telemetry next carries on from it."""

    device: DeviceRef
    version: int = Field(ge=1, description="Incremented at each change; the newest wins.")
    reference: DriftReference
    latched: dict[str, int] = Field(
        default_factory=dict, description="Drifted subjects, with calm windows since."
    )
    seen: list[uuid.UUID] = Field(
        default_factory=list, max_length=1000, description="Latest windows taken (event ids)."
    )
    raised: dict[str, DriftDetected] = Field(
        default_factory=dict,
        description="Signal raised by each recent window (window event id to signal), sent "
        "again when that window is redelivered.",
    )
    reference_generation: int = Field(
        default=0,
        ge=0,
        description="Which reference the device is on: its windows are stored apart, once, "
        "under the keys <device>\\x1fref\\x1f<generation>\\x1f<n> (0: the reference is in "
        "this record, as version-1 records kept it).",
    )
    reference_parts: int = Field(
        default=0, ge=0, description="How many windows of that reference are stored apart."
    )
    error_rates: list[float] = Field(
        default_factory=list, max_length=100, description="Recent windows' error rates."
    )
    stream: DriftStreamState | None = Field(
        default=None, description="The stream detector's own state, to carry on from."
    )
