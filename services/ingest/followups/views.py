"""Follow-ups over REST and through a small form reached from the status page."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from services.ingest.errors import KafkaUnavailable, RegistryUnavailable
from services.ingest.followups.models import FollowUpCreate, FollowUpReceipt
from services.ingest.followups.service import FollowUps, InvalidFollowUp, UnknownStatusLink
from services.ingest.form.i18n import TEXTS as FORM_TEXTS
from services.ingest.reports.views import RateLimited
from vigie.contracts import ReportedOutcome, utcnow

router = APIRouter(tags=["follow-ups"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

_UNKNOWN_LINK = "no report is recorded for this status link"


def get_followups(request: Request) -> FollowUps:
    """The application's follow-up publisher (built at start-up)."""
    followups: FollowUps = request.app.state.followups
    return followups


FollowUpsDep = Annotated[FollowUps, Depends(get_followups)]


def _field_errors(errors: list[tuple[str, str]]) -> RequestValidationError:
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", field), "msg": message, "input": None}
            for field, message in errors
        ]
    )


@router.post(
    "/api/v1/follow-ups",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FollowUpReceipt,
    dependencies=[RateLimited],
    responses={
        413: {"description": "Body too large"},
        422: {
            "description": "Invalid follow-up, with field errors; among them a status link "
            "for which no report is recorded (field `status_token`)"
        },
        429: {"description": "Too many submissions from this address; see Retry-After"},
        503: {
            "description": "The status link could not be checked, or Kafka did not "
            "acknowledge the follow-up; retry"
        },
    },
)
async def submit_followup(
    body: FollowUpCreate,
    followups: FollowUpsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> FollowUpReceipt:
    """Add information to a report already sent: text, the outcome if it changed, or both.

    The status link's secret goes in the body; the registry confirms which report it belongs
    to before anything is published, and only its hash travels on. Answers once Kafka
    acknowledged the follow-up (acks=all). A retry with the same `Idempotency-Key` (or, without
    one, the same body) is the same follow-up, recorded once. A worse outcome re-times the
    case's legal deadline from the day you learned of it (`awareness_date`, today by default).
    """
    try:
        return await followups.submit(body, idempotency_key=idempotency_key)
    except UnknownStatusLink:
        raise _field_errors([("status_token", _UNKNOWN_LINK)]) from None
    except InvalidFollowUp as exc:
        raise _field_errors(exc.errors) from None


# --- the form ---------------------------------------------------------------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Compléter votre déclaration",
        "switch": "English",
        "intro": "Ajoutez ce que vous avez appris depuis l'envoi. Les identifiants (noms, "
        "numéros) sont remplacés avant transmission, comme dans la déclaration.",
        "text": "Information complémentaire",
        "outcome": "Conséquence pour le patient, si elle a changé",
        "outcome_same": "Inchangée",
        "awareness_date": "Date à laquelle vous l'avez appris",
        "send": "Envoyer le complément",
        "thanks": "Complément reçu",
        "sent": "Texte transmis",
        "back": "Retour au suivi",
        "unknown": "Aucune déclaration n'est enregistrée pour ce lien.",
        "unavailable": "Le complément n'a pas pu être enregistré ; réessayez dans un instant.",
        "errors": "Le complément n'a pas été envoyé :",
    },
    "en": {
        "title": "Add to your report",
        "switch": "Français",
        "intro": "Add what you learned since you sent it. Identifiers (names, numbers) are "
        "replaced before it is sent on, as in the report.",
        "text": "Additional information",
        "outcome": "Outcome for the patient, if it changed",
        "outcome_same": "Unchanged",
        "awareness_date": "Day you learned of it",
        "send": "Send",
        "thanks": "Follow-up received",
        "sent": "Text sent on",
        "back": "Back to the status page",
        "unknown": "No report is recorded for this link.",
        "unavailable": "The follow-up could not be recorded; please retry in a moment.",
        "errors": "The follow-up was not sent:",
    },
}


def _context(lang: str, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "lang": lang,
        "t": _TEXTS[lang],
        "token": token,
        "outcomes": list(ReportedOutcome),
        "outcome_labels": _outcome_labels(lang),
        "today": utcnow().date().isoformat(),
        "errors": {},
        "fields": {},
        # One key per displayed form: sending it twice records one follow-up.
        "submission_id": secrets.token_urlsafe(16),
        **extra,
    }


def _outcome_labels(lang: str) -> dict[str, str]:
    """The outcomes as the report form names them, in ``lang``."""
    return {o.value: FORM_TEXTS[lang][f"outcome.{o.value}"] for o in ReportedOutcome}


def _lang(value: str | None) -> str:
    return value if value in _TEXTS else "fr"


@router.get("/follow-up/{token}", response_class=HTMLResponse)
async def show_followup_form(
    token: str, request: Request, followups: FollowUpsDep, lang: str | None = None
) -> HTMLResponse:
    """The follow-up form of a status link (404 when no report is recorded for it)."""
    language = _lang(lang)
    try:
        linked = await followups.links.report(token)
    except UnknownStatusLink:
        return templates.TemplateResponse(
            request, "followup.html", _context(language, token, unknown=True), status_code=404
        )
    except RegistryUnavailable:
        context = _context(language, token, errors={"form": _TEXTS[language]["unavailable"]})
        return templates.TemplateResponse(request, "followup.html", context, status_code=503)
    return templates.TemplateResponse(
        request, "followup.html", _context(language, token, tracking=linked.tracking_number)
    )


@router.post("/follow-up", response_class=HTMLResponse, dependencies=[RateLimited])
async def submit_followup_form(request: Request, followups: FollowUpsDep) -> HTMLResponse:
    """Send the form's follow-up; show the form again with errors, or what was sent on."""
    raw = await request.form()
    fields = {k: v for k, v in raw.items() if isinstance(v, str)}
    language = _lang(fields.get("language"))
    token = fields.get("status_token", "")
    submission_id = fields.get("submission_id") or secrets.token_urlsafe(16)
    data = {
        "status_token": token,
        "text": fields.get("text", "").strip() or None,
        "outcome": fields.get("outcome") or None,
        "awareness_date": fields.get("awareness_date") or None,
        "language": language,
    }

    def again(errors: dict[str, str], code: int) -> HTMLResponse:
        context = _context(language, token, errors=errors, fields=fields)
        context["submission_id"] = submission_id
        return templates.TemplateResponse(request, "followup.html", context, status_code=code)

    try:
        body = FollowUpCreate.model_validate(data)
        receipt = await followups.submit(body, idempotency_key=submission_id)
    except ValidationError as exc:
        errors = {
            str(e["loc"][0]) if e["loc"] else "text": str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        }
        return again(errors, 422)
    except UnknownStatusLink:
        return templates.TemplateResponse(
            request, "followup.html", _context(language, token, unknown=True), status_code=422
        )
    except InvalidFollowUp as exc:
        return again(dict(exc.errors), 422)
    except (KafkaUnavailable, RegistryUnavailable):
        return again({"form": _TEXTS[language]["unavailable"]}, 503)
    return templates.TemplateResponse(
        request,
        "followup_sent.html",
        {
            "lang": language,
            "t": _TEXTS[language],
            "receipt": receipt,
            "outcome_labels": _outcome_labels(language),
        },
        status_code=status.HTTP_202_ACCEPTED,
    )
