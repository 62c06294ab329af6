"""Generate spproxy/data/sandbox.json from Amazon's official SP-API models.

Every operation of every model (method, path template, operationId, the model file) with the
static sandbox examples its responses publish under `x-amzn-api-sandbox.static`, in the model's
order: the status, the request parameters an example answers (by location: path, query, body)
and the response body and headers. The emulator serves them (`spproxy/emulator/examples.py`
reads and matches them, `sandbox.py` answers); operations without examples are listed too, so the
emulator can route every operation.

A parameter's location comes from the operation's `parameters` (path-level ones included,
`$ref`s to `#/parameters/...` resolved). The models' own irregularities, read as the examples
intend them:
- `{"value": X}` is the parameter's value X (other keys beside it, e.g. `resourceId`, are no
  parameters and are dropped); a parameter given as `{}` names no value and constrains nothing;
- an example parameter called `body` is the operation's body parameter, whatever its name
  (Easy Ship, Orders v0, Product Pricing, Supply Sources call it `body` in the examples only);
- a body given without the `{"value": ...}` wrapper (three Easy Ship examples) is the body itself;
- header parameters are not matched by the emulator and are left out.
A response given as null or not at all is an answer without a body.

    python -m scripts.gen_sandbox [--models ../shared/spapi-models/models] [--check]

`--check` exits 1 if the shipped file differs from what the models give.
"""

from __future__ import annotations

from pathlib import Path

from scripts.models import ROOT, JsonObject, ModelError, main, operations, render

OUTPUT = ROOT / "spproxy" / "data" / "sandbox.json"
MATCHED_LOCATIONS = ("path", "query", "body")


def parameters_of(model: JsonObject, path_item: JsonObject, operation: JsonObject) -> JsonObject:
    """The operation's parameters by name (path-level first, the operation's own override)."""
    by_name: JsonObject = {}
    for parameter in (*path_item.get("parameters", []), *operation.get("parameters", [])):
        if "$ref" in parameter:
            parameter = model["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
        by_name[parameter["name"]] = parameter
    return by_name


def request_of(example: JsonObject, parameters: JsonObject, where: str) -> JsonObject:
    """The values an example's request names, by location: {"path": {...}, "query": {...},
    "body": ...}; locations it names nothing in are left out."""
    request: JsonObject = {}
    for name, given in example.get("request", {}).get("parameters", {}).items():
        parameter = parameters.get(name)
        if parameter is None and name == "body":
            parameter = next((p for p in parameters.values() if p["in"] == "body"), None)
        if not isinstance(given, dict) or not given:
            continue  # names no value: no constraint
        value = given.get("value", given)
        if parameter is None:
            if name == "body":
                continue  # a body on an operation that takes none (a GET): nothing to match
            raise ModelError(f"{where}: the example names {name!r}, not a parameter")
        location = parameter["in"]
        if location == "header":
            continue
        if location not in MATCHED_LOCATIONS:
            raise ModelError(f"{where}: parameter {name!r} is in {location!r}")
        if location == "body":
            request["body"] = value
        else:
            request.setdefault(location, {})[name] = value
    return request


def examples_of(
    model: JsonObject, path_item: JsonObject, operation: JsonObject, where: str
) -> list[JsonObject]:
    parameters = parameters_of(model, path_item, operation)
    examples = []
    for status, response in operation.get("responses", {}).items():
        for example in response.get("x-amzn-api-sandbox", {}).get("static", []):
            row: JsonObject = {"status": int(status)}
            request = request_of(example, parameters, f"{where} {status}")
            if request:
                row["request"] = request
            if example.get("response") is not None:
                row["response"] = example["response"]
            headers = {
                name: given["value"] if isinstance(given, dict) else given
                for name, given in example.get("responseHeaders", {}).items()
            }
            if headers:
                row["headers"] = headers
            examples.append(row)
    return examples


def generate(models: Path) -> str:
    rows = [
        {
            "method": method,
            "path": path,
            "operation": operation["operationId"],
            "model": name,
            "examples": examples_of(model, item, operation, f"{name} {method} {path}"),
        }
        for name, model, path, item, method, operation in operations(models)
    ]
    source = "sandbox examples of amzn/selling-partner-api-models (Apache-2.0), see NOTICE"
    return render(rows, source)


if __name__ == "__main__":
    raise SystemExit(main(__doc__ or "", OUTPUT, generate, "gen_sandbox"))
