"""Tokens API 2021-03-01: createRestrictedDataToken, which mints Restricted Data Tokens (RDTs).

Called with a seller's LWA token, like any seller operation. The body names 1 to 50 restricted
resources (method, path, and for Orders v0 getOrders/getOrder/getOrderItems `dataElements`) and
optionally a `targetApplication` to delegate to. Each resource must name a restricted operation
by its specific path or by its generic one (rdt.py); getReportDocument only by a specific path.
Malformed requests are refused with 400 InvalidInput. A request that passes, but names something
the application has no role for (EmulatorConfig.denied_*), is refused whole. Otherwise the answer
is a new RDT that grants exactly the resources named, for `token_ttl_s` seconds.

Amazon's published sandbox examples are never the answer here (`serves_examples=False`): their
tokens are fixed strings the emulator never issued, and every restricted operation would refuse
them; a minted RDT works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from spproxy.emulator.access import ACCESS_KEY, unauthorized
from spproxy.emulator.apis.query import json_object
from spproxy.emulator.apis.reports import report_type_of_document_path
from spproxy.emulator.credentials import RestrictedResource
from spproxy.emulator.errors import SpapiError, invalid_input
from spproxy.emulator.operations import OPERATIONS_KEY, Operation
from spproxy.emulator.rdt import DATA_ELEMENTS, is_generic, operation_named
from spproxy.emulator.state import STATE_KEY, EmulatorConfig, RdtMint

MAX_RESOURCES = 50
METHODS = ("GET", "PUT", "POST", "DELETE")  # RestrictedResource.method in the model

# What Amazon answered apps lacking a role (selling-partner-api-docs issues #702, #806).
AMAZON_ROLE_REFUSAL = "Application do not have access to some or all requested resource"

Named = tuple[Operation, RestrictedResource]


async def create_restricted_data_token(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await json_object(request)
    target = body.get("targetApplication")
    if target is not None and (not isinstance(target, str) or not target):
        raise invalid_input("targetApplication must be an application id.")
    listed = body.get("restrictedResources")
    if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_RESOURCES:
        raise invalid_input(
            f"restrictedResources must list 1 to {MAX_RESOURCES} restricted resources.",
            f"{len(listed)} given." if isinstance(listed, list) else "",
        )
    operations = request.app[OPERATIONS_KEY]
    named = [_named(operations, index, resource) for index, resource in enumerate(listed)]
    resources = tuple(resource for _operation, resource in named)
    seller = request[ACCESS_KEY].selling_partner_id
    mint = RdtMint(resources, target, seller)
    missing = _missing_roles(state.config, named)
    if missing:
        refusal = f"The application does not have the role required for {'; '.join(missing)}."
        state.refused_mints.append(replace(mint, refusal=refusal))
        if state.config.role_refusal == "invalid_input":
            raise SpapiError(400, "InvalidInput", AMAZON_ROLE_REFUSAL)
        raise unauthorized(refusal)
    token = state.issue_token(
        "rdt",
        selling_partner_id=seller,
        restricted_resources=resources,
        target_application=target,
    )
    state.rdt_mints.append(mint)
    return web.json_response({"restrictedDataToken": token, "expiresIn": state.config.token_ttl_s})


def _named(operations: Sequence[Operation], index: int, given: Any) -> Named:
    """The restricted operation a resource names, and the resource; InvalidInput if none."""
    where = f"restrictedResources[{index}]"
    if not isinstance(given, dict):
        raise invalid_input(f"{where} must be an object with a method and a path.")
    method, path = given.get("method"), given.get("path")
    if not isinstance(method, str) or method not in METHODS:
        raise invalid_input(f"{where}.method must be one of {', '.join(METHODS)}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_input(f"{where}.path must be a path such as /orders/v0/orders/{{orderId}}.")
    resource = f"{where}: {method} {path}"
    operation = operation_named(operations, method, path)
    if operation is None:
        raise invalid_input(f"{method} {path} is not the path of a restricted operation.", resource)
    if not operation.restricted:
        raise invalid_input(
            f"{operation.name} ({method} {operation.path}) is not a restricted operation: "
            "call it with the LWA access token.",
            resource,
        )
    if not operation.generic_path_allowed and is_generic(path):
        raise invalid_input(
            f"{operation.name} takes only a specific path, such as "
            "/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.0356cf79-..., not a generic one.",
            resource,
        )
    return operation, RestrictedResource(method, path, _data_elements(operation, given, resource))


def _data_elements(operation: Operation, given: dict[str, Any], resource: str) -> frozenset[str]:
    listed = given.get("dataElements") or []
    if not isinstance(listed, list) or not all(isinstance(value, str) for value in listed):
        raise invalid_input("dataElements must be a list of strings.", resource)
    elements = frozenset(listed)
    unknown = sorted(elements - DATA_ELEMENTS)
    if unknown:
        raise invalid_input(
            f"Invalid dataElements value(s): {', '.join(unknown)}. "
            f"Possible values: {', '.join(sorted(DATA_ELEMENTS))}.",
            resource,
        )
    if elements and not operation.data_elements:
        raise invalid_input(
            f"{operation.name} takes no dataElements: only Orders API getOrders, getOrder and "
            "getOrderItems do.",
            resource,
        )
    refused = sorted(elements - operation.data_elements)
    if refused:
        raise invalid_input(
            f"{operation.name} accepts only the dataElements "
            f"{', '.join(sorted(operation.data_elements))}, not {', '.join(refused)}.",
            resource,
        )
    return elements


def _missing_roles(config: EmulatorConfig, named: list[Named]) -> list[str]:
    """What the resources need that the application has no role for, each said once."""
    missing: dict[str, None] = {}
    for operation, resource in named:
        if operation.path in config.denied_paths:
            missing[f"{operation.method} {operation.path} ({operation.name})"] = None
        for element in sorted(resource.data_elements & config.denied_data_elements):
            missing[f"dataElements {element}"] = None
        report_type = report_type_of_document_path(resource.path)
        if report_type in config.denied_report_types:
            missing[f"report type {report_type}"] = None
    return list(missing)


OPERATIONS = (
    Operation(
        "createRestrictedDataToken",
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        create_restricted_data_token,
        rate=1,
        serves_examples=False,
    ),
)
