"""Views of the server-rendered report form."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from services.ingest.devices.service import Catalogue, Entry, fold
from services.ingest.devices.views import CatalogueDep, catalogue
from services.ingest.errors import KafkaUnavailable
from services.ingest.form.dates import MONTHS, long_date, long_datetime
from services.ingest.form.i18n import TEXTS, pick_language
from services.ingest.reports.models import ReportCreate
from services.ingest.reports.nonces import InvalidNonce
from services.ingest.reports.views import NoncesDep, RateLimited, SubmitterDep
from vigie import metrics
from vigie.contracts import (
    AgeBand,
    AiTask,
    ClinicianAction,
    InputDataProblem,
    PatientSex,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    utcnow,
)

router = APIRouter(tags=["form"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["long_date"] = long_date
templates.env.filters["long_datetime"] = long_datetime
STATIC = Path(__file__).parent / "static"

_DEVICE_FIELDS = ("name", "manufacturer", "model_version", "udi_di", "catalogue_id")


def _context(request: Request, lang: str, *, submission_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "fr" else "fr",
        "t": TEXTS[lang],
        "kinds": list(ReportKind),
        "roles": list(ReporterRole),
        "outcomes": list(ReportedOutcome),
        "ai_tasks": list(AiTask),
        "ai_actions": list(ClinicianAction),
        "ai_inputs": list(InputDataProblem),
        "age_bands": list(AgeBand),
        "sexes": list(PatientSex),
        "today": utcnow().date().isoformat(),
        "months": MONTHS[lang],
        "catalogue_entry": None,
        # A fresh submission nonce per displayed form, the idempotency key of its submission: a
        # double click records one report, and no one else can submit under it.
        "submission_id": submission_id,
        "values": {},
        "errors": {},
        **extra,
    }


# The AI part's fields, by form field name and ``AiInvolvement`` field; each input data problem
# is a checkbox of its own (``ai_input_<problem>``).
_AI_FIELDS = {
    f"ai_{name}": name
    for name in (
        "task",
        "output",
        "output_confidence",
        "clinician_action",
        "patient_exposed",
        "patient_age_band",
        "patient_sex",
    )
}
_AI_INPUTS = {f"ai_input_{p.value}": p.value for p in InputDataProblem}


def _percent(value: str) -> object:
    """A percentage typed in the form as the contract's 0-1 confidence (as typed if not one)."""
    try:
        number = float(value.replace(",", ".").removesuffix("%"))
    except ValueError:
        return value
    return number / 100 if 0 <= number <= 100 else value


def _ai_part(data: dict[str, Any]) -> dict[str, Any] | None:
    """Take the AI part's fields out of ``data``: the ``ai`` object of an inappropriate AI
    suggestion, None for another kind (the form hides the part, whatever was typed in it)."""
    given = {name: data.pop(name) for name in list(data) if name in _AI_FIELDS}
    problems = [problem for name, problem in _AI_INPUTS.items() if data.pop(name, None) == "on"]
    if data.get("kind") != ReportKind.INAPPROPRIATE_AI_SUGGESTION.value:
        return None
    ai: dict[str, Any] = {_AI_FIELDS[name]: value for name, value in given.items()}
    if "output_confidence" in ai:
        ai["output_confidence"] = _percent(ai["output_confidence"])
    if "patient_exposed" in ai:
        ai["patient_exposed"] = {"yes": True, "no": False}.get(ai["patient_exposed"])
    if problems:
        ai["input_data_problems"] = problems
    return ai or None


def catalogue_entry(fields: dict[str, str], found_in: Catalogue) -> Entry | None:
    """The catalogue device the form names: the one chosen in the typeahead if the name and
    manufacturer still read as the catalogue spells them (a reporter may have typed over them),
    else the one spelled exactly so; None for a device typed freely."""
    name, manufacturer = fields.get("device_name", ""), fields.get("device_manufacturer", "")
    spelled = found_in.find(name=name, manufacturer=manufacturer)
    chosen = found_in.get(fields.get("device_catalogue_id", ""))
    if chosen is not None and (chosen.name_key, chosen.manufacturer_key) == (
        fold(name),
        fold(manufacturer),
    ):
        return chosen
    return spelled


def form_to_report(
    fields: dict[str, str], lang: str, *, found_in: Catalogue | None = None
) -> dict[str, Any]:
    """Map flat form fields onto the JSON shape of ``ReportCreate`` (empty means absent); the
    device carries its catalogue id when it is a catalogue device (see :func:`catalogue_entry`)."""
    entry = catalogue_entry(fields, found_in or catalogue())
    fields = {**fields, "device_catalogue_id": entry.catalogue_id if entry else ""}
    # "lang" and the hidden "submission_id" (the idempotency key of the submission) are the
    # form's own fields, not the report's.
    data: dict[str, Any] = {
        k: v for k, v in fields.items() if v != "" and k not in ("lang", "submission_id")
    }
    data["device"] = {f: data.pop(f"device_{f}") for f in _DEVICE_FIELDS if f"device_{f}" in data}
    ai = _ai_part(data)
    if ai is not None:
        data["ai"] = ai
    data["public_health_threat"] = fields.get("public_health_threat") == "on"
    data["language"] = fields.get("language") or lang
    return data


# Fields the form shows an error next to; an error on any other goes to the top of the page.
_SHOWN_FIELDS = frozenset(
    {
        "kind",
        "reporter_role",
        "establishment",
        *(f"device_{f}" for f in _DEVICE_FIELDS),
        "event_date",
        "awareness_date",
        "outcome",
        "narrative",
        "patient_identifier",
        *_AI_FIELDS,
    }
)


# The messages of ReportCreate's checks across dates, by the field each is about.
_DATE_ERRORS = {
    "awareness_date cannot be in the future": ("awareness_date", "future"),
    "event_date cannot be in the future": ("event_date", "future"),
    "event_date cannot be after awareness_date": ("event_date", "after_awareness"),
}


def field_errors(exc: ValidationError, lang: str) -> dict[str, str]:
    """Validation errors keyed by form field name (``__all__`` for the rest, named)."""
    errors: dict[str, str] = {}
    general: list[str] = []
    for error in exc.errors():
        name = "_".join(str(p) for p in error["loc"])
        # A field left empty is the common error: say so in the form's language.
        if error["type"] == "missing":
            message = TEXTS[lang]["missing"]
        elif name == "ai_output_confidence":
            message = TEXTS[lang]["percent"]
        else:
            message = error["msg"].removeprefix("Value error, ")
        # The report's own checks of its dates: next to the field, in the page's language.
        if not name and message in _DATE_ERRORS:
            name, key = _DATE_ERRORS[message]
            today = long_date(utcnow().date(), lang)
            message = TEXTS[lang][key].format(today=today)
        if name in _SHOWN_FIELDS:
            errors.setdefault(name, message)
        else:
            general.append(f"{name}: {message}" if name else message)
    if general:
        errors["__all__"] = "; ".join(general)
    return errors


@router.get("/", response_class=HTMLResponse)
async def show_form(
    request: Request,
    nonces: NoncesDep,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """The empty report form."""
    language = pick_language(lang, accept_language)
    nonce, _ = nonces.issue()
    return templates.TemplateResponse(
        request, "form.html", _context(request, language, submission_id=nonce)
    )


@router.post("/", response_class=HTMLResponse, dependencies=[RateLimited])
async def submit_form(
    request: Request, submitter: SubmitterDep, nonces: NoncesDep, found_in: CatalogueDep
) -> HTMLResponse:
    """Validate the form; show it again with errors, or the confirmation with the receipt."""
    raw = await request.form()
    fields = {k: v for k, v in raw.items() if isinstance(v, str)}
    language = pick_language(fields.get("lang"), None)
    # Shown again with errors, the form keeps its nonce: it is still the same submission.
    nonce = fields.get("submission_id") or nonces.issue()[0]
    entry = catalogue_entry(fields, found_in)
    try:
        report = ReportCreate.model_validate(form_to_report(fields, language, found_in=found_in))
    except ValidationError as exc:
        metrics.REPORTS_REFUSED.labels(reason="validation").inc()
        return templates.TemplateResponse(
            request,
            "form.html",
            _context(
                request,
                language,
                submission_id=nonce,
                values=fields,
                errors=field_errors(exc, language),
                catalogue_entry=entry,
            ),
            status_code=422,
        )
    error: str
    try:
        receipt = await submitter.submit(report, idempotency_key=fields.get("submission_id"))
    except KafkaUnavailable:
        error, status_code = TEXTS[language]["unavailable"], 503
    except InvalidNonce:
        # An expired form (or one from before nonces): nothing was recorded; a fresh nonce
        # makes the next click a new submission.
        metrics.REPORTS_REFUSED.labels(reason="invalid_nonce").inc()
        error, status_code = TEXTS[language]["expired"], 422
        fields = {k: v for k, v in fields.items() if k != "submission_id"}
        nonce, _ = nonces.issue()
    else:
        return templates.TemplateResponse(
            request,
            "confirmation.html",
            _context(
                request,
                language,
                submission_id=nonce,
                receipt=receipt,
                report=report,
                catalogue_entry=entry,
            ),
            status_code=202,
        )
    return templates.TemplateResponse(
        request,
        "form.html",
        _context(
            request,
            language,
            submission_id=nonce,
            values=fields,
            errors={"__all__": error},
            catalogue_entry=entry,
        ),
        status_code=status_code,
    )
