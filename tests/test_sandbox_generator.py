"""scripts/gen_sandbox.py: the examples of Amazon's models, placed by location, kept up to date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.gen_sandbox import examples_of, generate
from scripts.models import ModelError

MODELS = Path(__file__).resolve().parents[2] / "shared" / "spapi-models" / "models"
needs_models = pytest.mark.skipif(
    not MODELS.is_dir(), reason="needs ../shared/spapi-models beside the repo"
)

MODEL: dict[str, Any] = {
    "parameters": {"Marketplaces": {"name": "marketplaceIds", "in": "query", "type": "array"}},
}
PATH_ITEM: dict[str, Any] = {"parameters": [{"name": "orderId", "in": "path"}]}


def _operation(parameters: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": [
            {"$ref": "#/parameters/Marketplaces"},
            {"name": "payload", "in": "body"},
            {"name": "x-amzn-idempotency-token", "in": "header"},
            *extra,
        ],
        "responses": {
            "200": {
                "x-amzn-api-sandbox": {
                    "static": [{"request": {"parameters": parameters}, "response": {"ok": 1}}]
                }
            },
            "204": {"x-amzn-api-sandbox": {"static": [{"request": {"parameters": {}}}]}},
        },
    }


def test_parameters_are_placed_by_location() -> None:
    operation = _operation(
        {
            "orderId": {"value": "TEST_CASE_200"},  # a path-level parameter
            "marketplaceIds": {"value": ["ATVPDKIKX0DER"]},  # through a $ref
            "payload": {"value": {"a": 1}, "resourceId": {"value": "r"}},
            "x-amzn-idempotency-token": {"value": "abc"},  # headers are not matched
        }
    )
    assert examples_of(MODEL, PATH_ITEM, operation, "test") == [
        {
            "status": 200,
            "request": {
                "path": {"orderId": "TEST_CASE_200"},
                "query": {"marketplaceIds": ["ATVPDKIKX0DER"]},
                "body": {"a": 1},
            },
            "response": {"ok": 1},
        },
        {"status": 204},
    ]


@pytest.mark.parametrize(
    ("given", "body"),
    [
        ({"body": {"value": {"a": 1}}}, {"a": 1}),  # "body" names the body parameter
        ({"body": {"a": 1}}, {"a": 1}),  # a body without the {"value": ...} wrapper
        ({"payload": {}}, None),  # {} names no value
    ],
)
def test_the_models_irregular_bodies(given: dict[str, Any], body: Any) -> None:
    (row, _) = examples_of(MODEL, PATH_ITEM, _operation(given), "test")
    assert row.get("request", {}).get("body") == body


def test_a_parameter_the_operation_lacks_is_an_error() -> None:
    with pytest.raises(ModelError, match="'nope'"):
        examples_of(MODEL, PATH_ITEM, _operation({"nope": {"value": 1}}), "test")
    with pytest.raises(ModelError, match="formData"):
        form = {"name": "file", "in": "formData"}
        examples_of(MODEL, PATH_ITEM, _operation({"file": {"value": "x"}}, form), "test")


@needs_models
def test_generated_examples_are_up_to_date_with_the_models() -> None:
    from scripts.gen_sandbox import OUTPUT

    assert OUTPUT.read_text() == generate(MODELS)


@needs_models
def test_no_published_example_is_left_out() -> None:
    published = 0
    for path in MODELS.glob("**/*.json"):
        for item in json.loads(path.read_text())["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    for response in operation["responses"].values():
                        published += len(response.get("x-amzn-api-sandbox", {}).get("static", []))
    rows = json.loads(generate(MODELS))["operations"]
    assert sum(len(row["examples"]) for row in rows) == published == 913
