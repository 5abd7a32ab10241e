"""The regulator dashboard (French and English): open-case queue and plots."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.registry.dashboard import charts, sessions
from services.registry.dashboard.service import Ratio, Signals, build
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
        "trends": "Tendances : déclarations observées et attendues par semaine",
        "trend_of": "Tendance de {device} ({manufacturer})",
        "trend_desc": "Barres : déclarations de la semaine, en rouge les hausses significatives ; "
        "ligne pointillée : déclarations attendues d'après les semaines précédentes.",
        "observed": "observées",
        "expected": "attendues",
        "flagged": "hausse significative",
        "no_trend": "Aucune déclaration sur la période.",
        "disprop": "Disproportionnalité par catégorie de problème (PRR et ROR, IC 95 %)",
        "disprop_desc": "Pour chaque dispositif et catégorie : PRR (carré) et ROR (rond) avec "
        "leur intervalle de confiance à 95 %, échelle logarithmique ; 1 (pointillé) : pas de "
        "disproportion. Les signaux en gras.",
        "actions": "Disproportionnalité par action du clinicien sur la suggestion de l'IA",
        "no_ratio": "Pas assez de déclarations.",
        "drift_time": "Signaux de dérive dans le temps",
        "drift_time_desc": "Un point par signal, à la fin de sa fenêtre : statistique rapportée "
        "au seuil (1, en pointillé, est le seuil), couleur selon la gravité.",
        "table": "Données du graphique",
        "week": "Semaine",
        "value": "Valeur",
        "n": "N",
        "prr": "PRR",
        "ror": "ROR",
        "ci": "IC 95 %",
        "signal": "Signal",
        "yes": "oui",
        "ratio": "Statistique / seuil",
        "at": "Fin de fenêtre",
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
            "followed": "suivie",
            "partly_followed": "suivie en partie",
            "overrode": "écartée",
            "did_not_see": "non vue",
            "missed_finding": "anomalie manquée",
            "false_or_misleading_output": "résultat faux ou trompeur",
            "unsafe_recommendation": "recommandation dangereuse",
            "bias_against_group": "biais envers un groupe",
            "over_reliance": "confiance excessive",
            "privacy_or_security": "confidentialité ou sécurité",
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
        "trends": "Trends: observed and expected reports per week",
        "trend_of": "Trend of {device} ({manufacturer})",
        "trend_desc": "Bars: the week's reports, significant increases in red; dashed line: "
        "reports expected from the weeks before.",
        "observed": "observed",
        "expected": "expected",
        "flagged": "significant increase",
        "no_trend": "No report in the period.",
        "disprop": "Disproportionality by problem category (PRR and ROR, 95% CI)",
        "disprop_desc": "For each device and category: PRR (square) and ROR (circle) with their "
        "95% confidence intervals, log scale; 1 (dashed): no disproportion. Signals in bold.",
        "actions": "Disproportionality by the clinician's action on the AI suggestion",
        "no_ratio": "Not enough reports.",
        "drift_time": "Drift signals over time",
        "drift_time_desc": "One dot per signal at the end of its window: statistic over "
        "threshold (1, dashed, is the threshold), coloured by severity.",
        "table": "Chart data",
        "week": "Week",
        "value": "Value",
        "n": "N",
        "prr": "PRR",
        "ror": "ROR",
        "ci": "95% CI",
        "signal": "Signal",
        "yes": "yes",
        "ratio": "Statistic / threshold",
        "at": "Window end",
        "labels": {
            "under_assessment": "under assessment",
            "awaiting_manufacturer": "awaiting manufacturer",
            "reported_to_authority": "reported to authority",
            "score": "model outputs",
            "error_rate": "error rate",
            "partly_followed": "partly followed",
            "overrode": "overrode",
            "did_not_see": "did not see",
            "missed_finding": "missed finding",
            "false_or_misleading_output": "false or misleading output",
            "unsafe_recommendation": "unsafe recommendation",
            "bias_against_group": "bias against a group",
            "over_reliance": "over-reliance",
            "privacy_or_security": "privacy or security",
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


def _forest(chart_id: str, rows: list[Ratio], t: dict[str, Any], title: str) -> str:
    labels = t["labels"]
    return charts.forest(
        chart_id,
        [
            charts.ForestRow(
                label=f"{r.device_name} · {labels.get(r.value, r.value.replace('_', ' '))}",
                prr=r.prr,
                prr_ci=r.prr_ci,
                ror=r.ror,
                ror_ci=r.ror_ci,
                flagged=r.flagged,
            )
            for r in rows
        ],
        title=title,
        desc=t["disprop_desc"],
        legend=(t["prr"], t["ror"]),
    )


def signal_plots(signals: Signals, t: dict[str, Any]) -> dict[str, Any]:
    """The SVG of each signal plot, in the page's language."""
    labels = t["labels"]
    return {
        "trends": [
            charts.observed_expected(
                f"trend-{i}",
                [w.week for w in trend.weeks],
                [w.reports for w in trend.weeks],
                [w.expected for w in trend.weeks],
                [w.flagged for w in trend.weeks],
                title=t["trend_of"].format(
                    device=trend.device_name, manufacturer=trend.manufacturer
                ),
                desc=t["trend_desc"],
                legend=(t["observed"], t["expected"], t["flagged"]),
            )
            for i, trend in enumerate(signals.trends)
        ],
        "categories": _forest("disprop-chart-svg", signals.by_category, t, t["disprop"]),
        "actions": _forest("actions-chart-svg", signals.by_action, t, t["actions"]),
        "drift": charts.drift_timeline(
            "drift-time-svg",
            [
                charts.DriftPoint(
                    at=s.window_end,
                    ratio=s.statistic / s.threshold if s.threshold else 0.0,
                    severity=s.severity.value,
                    label=f"{s.device_name} {s.model_version} · {s.detector}",
                )
                for s in signals.drift
            ],
            title=t["drift_time"],
            desc=t["drift_time_desc"],
            legend={v: labels.get(v, v) for v in ("high", "medium", "low")},
        ),
    }


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
            "plots": signal_plots(data.signals, t) if data.signals is not None else None,
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
