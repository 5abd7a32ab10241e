"""Contract limits that must hold after every transformation the consumers apply."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tests.support.factories import report
from vigie.contracts import LATEST_DATE, DeviceRef


def test_a_manufacturer_must_fit_once_case_folded() -> None:
    DeviceRef(name="Dev", manufacturer="ß" * 100, model_version="1")  # 200 once folded
    with pytest.raises(ValidationError, match="once case-folded"):
        DeviceRef(name="Dev", manufacturer="ß" * 101, model_version="1")


@pytest.mark.parametrize("day", [date(9999, 12, 31), date(1900, 1, 1)])
def test_dates_are_bounded_in_the_contract(day: date) -> None:
    # A deadline computed from 9999-12-31 overflows; a report from 1900 is no AI incident.
    with pytest.raises(ValidationError, match="awareness_date"):
        report(awareness_date=day)
    report(awareness_date=LATEST_DATE)
