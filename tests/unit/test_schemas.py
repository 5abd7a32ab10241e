"""schemas/ is generated from the code: out of date is a failure, examples are valid."""

from __future__ import annotations

import json

import jsonschema
import pytest

from services.ingest.reports.models import EXAMPLE_REPORT, ReportCreate
from vigie import topics
from vigie_tools.schemagen import SCHEMAS_DIR, differences


def test_schemas_directory_is_up_to_date() -> None:
    assert differences(SCHEMAS_DIR) == [], "run `vigie schemas` (make schemas) and commit"


@pytest.mark.parametrize("spec", topics.ALL, ids=lambda s: s.name)
def test_examples_validate_against_schema_and_model(spec: topics.TopicSpec) -> None:
    schema = json.loads((SCHEMAS_DIR / f"{spec.name}.schema.json").read_text())
    examples = sorted((SCHEMAS_DIR / "examples" / spec.name).glob("*.json"))
    assert examples, f"no example for {spec.name}"
    for path in examples:
        data = json.loads(path.read_text())
        jsonschema.validate(data, schema)
        spec.event.model_validate(data)


def test_asyncapi_documents_every_topic_and_its_dead_letter_topic() -> None:
    document = json.loads((SCHEMAS_DIR / "asyncapi.json").read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(topics.all_topic_names()) | {"vigie.alerts.v1.sub.{subscription}"}


def test_openapi_example_bodies_are_valid() -> None:
    document = json.loads((SCHEMAS_DIR / "openapi" / "ingest.openapi.json").read_text())
    schema = document["components"]["schemas"]["ReportCreate"]
    assert schema["examples"] == [EXAMPLE_REPORT]
    for example in schema["examples"]:
        ReportCreate.model_validate(example)
