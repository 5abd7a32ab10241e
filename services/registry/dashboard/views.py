"""The regulator dashboard (French and English): open-case queue and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.registry.auth.service import authenticate
from services.registry.dashboard import charts
from services.registry.dashboard.service import build
from services.registry.deps import SessionDep, SettingsDep
from services.registry.errors import AccessDenied
from vigie.contracts import utcnow

router = APIRouter(tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
COOKIE = "vigie_token"

TEXTS: dict[str, dict[str, Any]] = {
    "fr": {
        "title": "Tableau de bord de vigilance",
        "queue": "Dossiers ouverts par échéance",
        "case": "Dossier",
        "device": "Dispositif",
        "severity": "Gravité",
        "status": "État",
        "deadline": "Échéance",
        "left": "Jours restants",
        "overdue": "en retard",
        "none": "Aucun dossier ouvert.",
        "weekly": "Déclarations par semaine et par gravité",
        "devices": "Déclarations par dispositif (10 premiers)",
        "total": "Déclarations",
        "login": "Connexion",
        "token": "Jeton d'accès",
        "enter": "Entrer",
        "bad": "Jeton invalide ou rôle non autorisé.",
        "logout": "Se déconnecter",
        "switch": "English",
        "drift": "Signaux de dérive des dispositifs",
        "no_drift": "Aucun signal de dérive.",
        "version": "Version du modèle",
        "subject": "Ce qui a dérivé",
        "statistic": "Statistique / seuil",
        "window": "Fenêtre",
        "labels": {
            "death": "décès",
            "serious": "grave",
            "malfunction": "dysfonctionnement",
            "other": "autre",
            "high": "élevée",
            "medium": "moyenne",
            "low": "faible",
            "received": "reçu",
            "triaged": "trié",
            "under_assessment": "en évaluation",
            "awaiting_manufacturer": "attente fabricant",
            "reported_to_authority": "déclaré à l'autorité",
            "closed": "clos",
            "score": "sorties du modèle",
            "error_rate": "taux d'erreur",
        },
    },
    "en": {
        "title": "Vigilance dashboard",
        "queue": "Open cases by deadline",
        "case": "Case",
        "device": "Device",
        "severity": "Severity",
        "status": "Status",
        "deadline": "Deadline",
        "left": "Days left",
        "overdue": "overdue",
        "none": "No open case.",
        "weekly": "Reports per week by severity",
        "devices": "Reports by device (top 10)",
        "total": "Reports",
        "login": "Sign in",
        "token": "Access token",
        "enter": "Enter",
        "bad": "Invalid token or role not allowed.",
        "logout": "Sign out",
        "switch": "Français",
        "drift": "Device drift signals",
        "no_drift": "No drift signal.",
        "version": "Model version",
        "subject": "What drifted",
        "statistic": "Statistic / threshold",
        "window": "Window",
        "labels": {
            "under_assessment": "under assessment",
            "awaiting_manufacturer": "awaiting manufacturer",
            "reported_to_authority": "reported to authority",
            "score": "model outputs",
            "error_rate": "error rate",
        },
    },
}


def _lang(lang: str | None) -> str:
    return lang if lang in TEXTS else "fr"


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    vigie_token: Annotated[str | None, Cookie()] = None,
) -> Response:
    """The dashboard, or the sign-in form without a valid token."""
    language = _lang(lang)
    t = TEXTS[language]
    principal = authenticate(session, vigie_token) if vigie_token else None
    context = {"t": t, "lang": language, "other": "en" if language == "fr" else "fr"}
    if principal is None:
        return templates.TemplateResponse(request, "login.html", {**context, "error": False})
    try:
        data = build(
            session, principal=principal, key=settings.pseudonym_key_bytes, today=utcnow().date()
        )
    except AccessDenied:
        return templates.TemplateResponse(
            request, "login.html", {**context, "error": True}, status_code=403
        )
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            **context,
            "data": data,
            "role": principal.role.value,
            "weekly_svg": charts.stacked_bars(data.weeks, data.by_severity, title=t["weekly"]),
            "devices_svg": charts.horizontal_bars(data.by_device, title=t["devices"]),
        },
    )


@router.post("/dashboard/login")
def login(
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)],
    lang: Annotated[str, Form()] = "fr",
) -> Response:
    """Check the token and keep it in an HttpOnly cookie."""
    target = f"/dashboard?lang={_lang(lang)}"
    if authenticate(session, token) is None:
        return RedirectResponse(f"{target}&error=1", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=8 * 3600)
    return response


@router.post("/dashboard/logout")
def logout(lang: Annotated[str, Form()] = "fr") -> Response:
    """Forget the token."""
    response = RedirectResponse(f"/dashboard?lang={_lang(lang)}", status_code=303)
    response.delete_cookie(COOKIE)
    return response
