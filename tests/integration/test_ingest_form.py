"""The report form without a broker: nothing chosen for the reporter, errors in its language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.form.i18n import pick_language
from services.ingest.settings import IngestSettings

FORM = {
    "kind": "adverse_event",
    "reporter_role": "nurse",
    "device_name": "Sepsis Watch",
    "device_manufacturer": "Acme Health",
    "device_model_version": "2.0",
    "awareness_date": "2026-11-01",
    "narrative": "The early-warning score stayed low while the patient became septic.",
}


@pytest.fixture
def client() -> TestClient:
    app = create_app(IngestSettings(ingest_rate_limit=""))
    app.state.submitter = None  # every request here is refused before any submission
    return TestClient(app)


def test_no_outcome_is_chosen_for_the_reporter(client: TestClient) -> None:
    for lang in ("fr", "en"):
        page = client.get(f"/?lang={lang}").text
        select = re.search(r'<select id="outcome".*?</select>', page, re.S)
        assert select is not None
        selected = re.findall(r'<option value="([^"]*)" selected>', select[0])
        assert selected == [""]


@pytest.mark.parametrize(
    ("lang", "message"), [("fr", "Ce champ est obligatoire."), ("en", "This field is required.")]
)
def test_a_report_without_an_outcome_is_refused_with_the_field_named(
    client: TestClient, lang: str, message: str
) -> None:
    for outcome in ({}, {"outcome": ""}):
        page = client.post("/", data={**FORM, **outcome, "lang": lang})
        assert page.status_code == 422
        error = re.search(r'<p class="error" id="outcome-error">([^<]*)</p>', page.text)
        assert error is not None and error[1] == message
        assert 'aria-describedby="outcome-error" aria-invalid="true"' in page.text
        assert 'value="Sepsis Watch"' in page.text  # what was typed is kept


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("en;q=0.1, fr;q=0.9", "fr"),
        ("fr;q=0.2,en-GB;q=0.8", "en"),
        ("de, en;q=0.5, fr;q=0.4", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-CA, en", "fr"),  # equal weights: the first listed
        ("en;q=0, de", "fr"),  # q=0 is "not acceptable"
        ("en;q=abc", "fr"),
        ("enx, frisian", "fr"),
        ("", "fr"),
        (None, "fr"),
    ],
)
def test_the_language_follows_the_browser_weights(header: str | None, language: str) -> None:
    assert pick_language(None, header) == language


def test_the_weights_reach_the_page(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en;q=0.1, fr;q=0.9"})
    assert '<html lang="fr">' in page.text
    assert pick_language("en", "fr") == "en"  # ?lang= wins over the browser
