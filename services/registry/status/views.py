"""The human page of a reporter's status link, in French or English."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.registry.deps import SessionDep
from services.registry.errors import NotFound
from services.registry.reports.service import status_for_token

router = APIRouter(tags=["reporters"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/status/{token}", response_class=HTMLResponse)
def status_page(
    token: str, request: Request, session: SessionDep, lang: str = "fr"
) -> HTMLResponse:
    """Human page of a reporter's status link."""
    language = lang if lang in ("fr", "en") else "fr"
    try:
        found = status_for_token(session, hashlib.sha256(token.encode()).hexdigest())
    except NotFound:
        found = None
    return templates.TemplateResponse(
        request,
        "status.html",
        {"status": found, "lang": language, "token": token},
        status_code=200 if found else 404,
    )
