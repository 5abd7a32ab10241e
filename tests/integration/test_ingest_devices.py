"""The form's device typeahead without a broker: ingest's catalogue search, the registry's model
versions it offers, and what the form sends of the device."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.devices.service import Catalogue, ModelVersions
from services.ingest.devices.views import catalogue
from services.ingest.form.dates import long_date, long_datetime
from services.ingest.form.views import form_to_report
from services.ingest.reports.models import ReportCreate
from services.ingest.settings import IngestSettings

VERSIONS = {"items": [{"device_id": "DEV_00001", "model_versions": ["1.0", "1.2"]}]}


class FakeRegistry:
    """The registry's model-versions route, counting the requests it gets."""

    def __init__(self, *, up: bool = True) -> None:
        self.up = up
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert request.url.path == "/api/v1/devices/catalogue/model-versions"
        if not self.up:
            return httpx.Response(503)
        return httpx.Response(200, json=VERSIONS)


def client_with(registry: FakeRegistry) -> TestClient:
    app = create_app(IngestSettings(ingest_rate_limit=""))
    app.state.submitter = None  # no request here submits
    app.state.model_versions = ModelVersions(
        "http://registry", transport=httpx.MockTransport(registry)
    )
    return TestClient(app)


def test_the_catalogue_is_searched_by_name_manufacturer_or_fda_number() -> None:
    devices = catalogue()
    assert len(devices) > 1000
    by_number = devices.search("k233549")
    assert [(e.catalogue_id, e.name) for e in by_number] == [("DEV_00001", "Tempus ECG-AF")]
    # Names starting with the query come first, then names holding it.
    names = [e.name for e in devices.search("lung", limit=10)]
    assert len(names) == 10
    starts = [n.casefold().startswith("lung") for n in names]
    assert starts == sorted(starts, reverse=True) and starts[0]
    # The manufacturer, case and accents aside.
    assert {e.manufacturer for e in devices.search("AIDÓC")} == {"Aidoc Medical, Ltd."}
    assert devices.search("a") == []  # too short to mean anything
    assert devices.search("no such device anywhere") == []


def test_a_catalogue_device_is_found_by_its_spelling_case_and_accents_aside() -> None:
    devices = catalogue()
    entry = devices.get("DEV_00001")
    assert entry is not None
    assert devices.find(name=" tempus  ecg-af ", manufacturer="TEMPUS LABS, INC.") == entry
    assert devices.find(name="Tempus ECG-AF", manufacturer="Someone else") is None


def test_names_the_contract_cannot_carry_are_not_offered() -> None:
    from services.ingest.devices.service import Entry

    long_one = Entry("DEV_X", "n" * 201, "Acme", None)
    short = Entry("DEV_Y", "nodule finder", "Acme", None)
    assert [e.catalogue_id for e in Catalogue([long_one, short]).search("n")] == []
    assert [e.catalogue_id for e in Catalogue([long_one, short]).search("nn")] == []
    assert [e.catalogue_id for e in Catalogue([long_one, short]).search("no")] == ["DEV_Y"]


def test_the_search_route_offers_the_registrys_versions_and_is_bounded() -> None:
    registry = FakeRegistry()
    client = client_with(registry)
    found = client.get("/api/v1/devices", params={"q": "tempus ecg-af"})
    assert found.status_code == 200
    first = found.json()["items"][0]
    assert first == {
        "catalogue_id": "DEV_00001",
        "name": "Tempus ECG-AF",
        "manufacturer": "Tempus Labs, Inc.",
        "submission_number": "K233549",
        "model_versions": ["1.0", "1.2"],
    }
    assert len(client.get("/api/v1/devices", params={"q": "ai"}).json()["items"]) == 8
    assert len(client.get("/api/v1/devices", params={"q": "ai", "limit": 10}).json()["items"]) == 10
    for params in ({"q": "a"}, {"q": "x" * 101}, {"q": "ai", "limit": 11}, {}):
        refused = client.get("/api/v1/devices", params=params)
        assert refused.status_code == 422, params
        assert refused.json()["detail"][0]["loc"][-1] in {"q", "limit"}
    # However many searches, the registry is asked once per minute.
    assert registry.requests == 1


def test_the_search_goes_on_without_versions_while_the_registry_is_down() -> None:
    registry = FakeRegistry(up=False)
    client = client_with(registry)
    for _ in range(3):
        found = client.get("/api/v1/devices", params={"q": "K233549"})
        assert found.status_code == 200
        assert found.json()["items"][0]["model_versions"] == []
    assert registry.requests == 1  # not asked again at every keystroke


def test_versions_are_read_again_once_they_are_stale() -> None:
    registry = FakeRegistry(up=False)
    versions = ModelVersions("http://registry", ttl_s=0, transport=httpx.MockTransport(registry))

    async def twice() -> tuple[object, object]:
        first = dict(await versions.of())
        registry.up = True
        return first, dict(await versions.of())

    down, up = asyncio.run(twice())
    assert down == {} and up == {"DEV_00001": ["1.0", "1.2"]}


FORM = {
    "kind": "inappropriate_ai_suggestion",
    "reporter_role": "physician",
    "device_name": "Tempus ECG-AF",
    "device_manufacturer": "Tempus Labs, Inc.",
    "device_model_version": "1.2",
    "device_catalogue_id": "DEV_00001",
    "awareness_date": "2026-11-01",
    "outcome": "injury",
    "narrative": "The score said no atrial fibrillation; the patient had a stroke a week later.",
}


def test_the_report_says_whether_the_device_is_the_catalogues() -> None:
    def sent(**fields: str) -> str | None:
        return ReportCreate.model_validate(
            form_to_report({**FORM, **fields}, "en")
        ).device.catalogue_id

    assert sent() == "DEV_00001"  # chosen in the typeahead
    assert sent(device_catalogue_id="") == "DEV_00001"  # typed as the catalogue spells it
    # Typed over after choosing: free text, whatever the hidden field says.
    assert sent(device_name="Tempus ECG-AF v2") is None
    assert sent(device_manufacturer="Tempus") is None
    # An id the catalogue lacks, or another device's, is not taken on trust.
    assert sent(device_catalogue_id="DEV_99999", device_name="My own AI") is None
    assert sent(device_catalogue_id="DEV_00002") == "DEV_00001"


@pytest.mark.parametrize(
    ("lang", "note"),
    [("fr", "Pas dans le catalogue : saisie libre."), ("en", "Not in the catalogue: free text.")],
)
def test_a_form_shown_again_says_whether_the_device_is_the_catalogues(lang: str, note: str) -> None:
    client = client_with(FakeRegistry())
    free = client.post("/", data={**FORM, "device_name": "My own AI", "outcome": "", "lang": lang})
    assert free.status_code == 422
    assert f'<p class="help" id="device-note">{note}</p>' in free.text
    assert 'name="device_catalogue_id" value=""' in free.text
    chosen = client.post("/", data={**FORM, "outcome": "", "lang": lang})
    assert 'name="device_catalogue_id" value="DEV_00001"' in chosen.text
    assert "(FDA K233549)" in chosen.text


def test_no_role_is_chosen_for_the_reporter() -> None:
    client = client_with(FakeRegistry())
    for lang in ("fr", "en"):
        page = client.get(f"/?lang={lang}").text
        select = re.search(r'<select id="reporter_role".*?</select>', page, re.S)
        assert select is not None
        assert re.findall(r'<option value="([^"]*)" selected>', select[0]) == [""]
        refused = client.post("/", data={**FORM, "reporter_role": "", "lang": lang})
        assert refused.status_code == 422
        assert 'id="reporter_role-error"' in refused.text


def test_the_device_field_is_a_plain_text_field_until_the_script_runs() -> None:
    page = client_with(FakeRegistry()).get("/?lang=en").text
    field = re.search(r'<input type="text" id="device_name"[^>]*>', page, re.S)
    assert field is not None
    # The combobox role is the script's to give: without it, the field is what it looks like.
    assert 'role="combobox"' not in field[0]
    assert 'data-search="/api/v1/devices"' in field[0]
    assert '<script src="/static/form.js" defer></script>' in page
    assert client_with(FakeRegistry()).get("/static/form.js").status_code == 200


@pytest.mark.parametrize(
    ("lang", "day", "moment"),
    [
        ("fr", "1er novembre 2026", "3 décembre 2026 à 07:05 UTC"),
        ("en", "1 November 2026", "3 December 2026, 07:05 UTC"),
    ],
)
def test_dates_are_written_in_the_pages_language(lang: str, day: str, moment: str) -> None:
    assert long_date("2026-11-01", lang) == day
    assert long_datetime(datetime(2026, 12, 3, 8, 5, tzinfo=UTC) + timedelta(hours=-1), lang) == (
        moment
    )
    assert long_date("not a date", lang) == "not a date"
    client = client_with(FakeRegistry())
    shown = client.post("/", data={**FORM, "outcome": "", "lang": lang}).text
    assert f'<span class="date">{day}</span>' in shown  # the awareness date typed
    assert "2026-11-01" not in re.sub(r'value="[^"]*"|max="[^"]*"', "", shown)


@pytest.mark.parametrize(
    ("lang", "future", "after"),
    [
        (
            "fr",
            "Cette date est dans le futur : au plus tard aujourd'hui, le {today}.",
            "L'incident ne peut pas être postérieur à la date de connaissance.",
        ),
        (
            "en",
            "This date is in the future: today, {today}, at the latest.",
            "The incident cannot be later than the date you became aware of it.",
        ),
    ],
)
def test_date_errors_name_their_field_in_the_pages_language(
    lang: str, future: str, after: str
) -> None:
    client = client_with(FakeRegistry())
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()

    def error_of(field: str, **fields: str) -> str:
        page = client.post("/", data={**FORM, **fields, "lang": lang})
        assert page.status_code == 422
        found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page.text)
        assert found is not None, page.text
        assert f'aria-describedby="{field}-help {field}-error" aria-invalid="true"' in page.text
        return html.unescape(found[1])

    expected = future.format(today=long_date(today, lang))
    assert error_of("awareness_date", awareness_date=tomorrow) == expected
    assert error_of("event_date", event_date=tomorrow) == expected
    assert error_of("event_date", event_date="2026-11-02", awareness_date="2026-11-01") == after
