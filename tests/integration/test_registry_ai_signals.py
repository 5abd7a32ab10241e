"""Signals broken down by the AI part: is "followed" disproportionate for one device?"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, ReportedOutcome, ReportKind

DOSING = DeviceRef(name="Dose Helper", manufacturer="Acme", model_version="2")
SEPSIS = DeviceRef(name="Sepsis Watch", manufacturer="Globex", model_version="1")


def reports(device: DeviceRef, action: str, n: int) -> list:  # type: ignore[type-arg]
    return [
        triaged(
            kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
            outcome=ReportedOutcome.INJURY,
            device=device,
            ai={"task": "dosing", "clinician_action": action, "patient_exposed": True},
        )
        for _ in range(n)
    ]


@pytest.mark.parametrize("by", ["clinician_action"])
def test_disproportionality_by_the_clinicians_action(database_url: str, by: str) -> None:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            record_triaged(
                session,
                reports(DOSING, "followed", 8)
                + reports(DOSING, "overrode", 2)
                + reports(SEPSIS, "followed", 2)
                + reports(SEPSIS, "overrode", 18)
                + [triaged(device=SEPSIS)],  # no AI part: not counted by action
                alerts_topic="alerts",
            )
            regulator = create_token(session, role=Role.REGULATOR)
            acme = create_token(session, role=Role.MANUFACTURER, manufacturer="Acme")
        rows = client.get(
            f"/api/v1/signals/disproportionality?by={by}",
            headers={"Authorization": f"Bearer {regulator}"},
        ).json()
        cells = {(r["device_name"], r["category"]): r for r in rows}
        assert set(cells) == {
            ("Dose Helper", "followed"),
            ("Dose Helper", "overrode"),
            ("Sepsis Watch", "followed"),
            ("Sepsis Watch", "overrode"),
        }
        followed = cells[("Dose Helper", "followed")]
        assert followed["breakdown"] == "clinician_action"
        assert (followed["reports"], followed["device_reports"]) == (8, 10)
        assert followed["category_reports"] == 10 and followed["all_reports"] == 31
        assert followed["flagged"] and followed["prr"] > 2
        assert not cells[("Dose Helper", "overrode")]["flagged"]
        # A manufacturer sees its own devices' rows only; the default stays the category.
        own = client.get(
            f"/api/v1/signals/disproportionality?by={by}",
            headers={"Authorization": f"Bearer {acme}"},
        ).json()
        assert {r["device_name"] for r in own} == {"Dose Helper"}
        assert (
            client.get(
                "/api/v1/signals/disproportionality?by=shoe_size",
                headers={"Authorization": f"Bearer {regulator}"},
            ).status_code
            == 422
        )
