"""The human page of a reporter's status link, in French or English."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.registry.deps import SessionDep, SettingsDep
from services.registry.errors import NotFound
from services.registry.followups.service import received_for_link
from services.registry.reports.service import status_for_token

router = APIRouter(tags=["reporters"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/status/{token}", response_class=HTMLResponse)
def status_page(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, lang: str = "fr"
) -> HTMLResponse:
    """Human page of a reporter's status link, with the follow-ups received and where to send
    one."""
    language = lang if lang in ("fr", "en") else "fr"
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    try:
        found = status_for_token(session, token_hash)
    except NotFound:
        found = None
    followups = received_for_link(session, token_hash) if found else []
    followup_url = f"{settings.ingest_public_url.rstrip('/')}/follow-up/{token}?lang={language}"
    return templates.TemplateResponse(
        request,
        "status.html",
        {
            "status": found,
            "lang": language,
            "token": token,
            "followups": followups,
            "followup_url": followup_url,
        },
        status_code=200 if found else 404,
    )
