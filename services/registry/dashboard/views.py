"""The regulator dashboard (French and English): open-case queue and plots."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.registry.dashboard import charts, sessions
from services.registry.dashboard.service import build
from services.registry.deps import SessionDep, SettingsDep
from services.registry.errors import AccessDenied
from vigie.contracts import utcnow

router = APIRouter(tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

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


def _cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    # __Host-: Secure, no Domain, Path=/ (no subdomain or plain-HTTP page can set or shadow it).
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def _sign_in(request: Request, context: dict[str, Any], *, error: bool, status: int) -> Response:
    """The sign-in form, with a fresh nonce in its form and in a cookie of its own."""
    nonce = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request, "login.html", {**context, "error": error, "csrf": nonce}, status_code=status
    )
    _cookie(response, sessions.LOGIN_COOKIE, nonce, max_age=3600)
    return response


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: str | None = None,
    session_id: Annotated[str | None, Cookie(alias=sessions.SESSION_COOKIE)] = None,
) -> Response:
    """The dashboard, or the sign-in form without a live session."""
    language = _lang(lang)
    t = TEXTS[language]
    signed_in = sessions.current(session, session_id)
    context = {"t": t, "lang": language, "other": "en" if language == "fr" else "fr"}
    if signed_in is None:
        return _sign_in(request, context, error=False, status=200)
    principal = signed_in.principal
    try:
        data = build(
            session, principal=principal, key=settings.pseudonym_key_bytes, today=utcnow().date()
        )
    except AccessDenied:
        return _sign_in(request, context, error=True, status=403)
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            **context,
            "data": data,
            "role": principal.role.value,
            "csrf": signed_in.csrf_token,
            "weekly_svg": charts.stacked_bars(data.weeks, data.by_severity, title=t["weekly"]),
            "devices_svg": charts.horizontal_bars(data.by_device, title=t["devices"]),
        },
    )


@router.post("/dashboard/login")
def login(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    lang: Annotated[str, Form(max_length=10)] = "fr",
    nonce: Annotated[str | None, Cookie(alias=sessions.LOGIN_COOKIE)] = None,
) -> Response:
    """Open a server-side session for a valid token; the browser gets only its random id."""
    target = f"/dashboard?lang={_lang(lang)}"
    if not sessions.same(nonce, csrf):
        raise HTTPException(status_code=403, detail="sign-in form expired or forged; reload it")
    opened = sessions.open_session(session, token=token, hours=settings.dashboard_session_hours)
    if opened is None:
        return RedirectResponse(f"{target}&error=1", status_code=303)
    response = RedirectResponse(target, status_code=303)
    _cookie(
        response,
        sessions.SESSION_COOKIE,
        opened.secret,
        max_age=int(settings.dashboard_session_hours * 3600),
    )
    response.delete_cookie(
        sessions.LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict"
    )
    return response


@router.post("/dashboard/logout")
def logout(
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
    lang: Annotated[str, Form(max_length=10)] = "fr",
    session_id: Annotated[str | None, Cookie(alias=sessions.SESSION_COOKIE)] = None,
) -> Response:
    """End the session (its CSRF token required)."""
    signed_in = sessions.current(session, session_id)
    if signed_in is not None:
        if not sessions.same(signed_in.csrf_token, csrf):
            raise HTTPException(status_code=403, detail="form expired or forged; reload the page")
        sessions.close_session(session, signed_in)
    response = RedirectResponse(f"/dashboard?lang={_lang(lang)}", status_code=303)
    response.delete_cookie(
        sessions.SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict"
    )
    return response
