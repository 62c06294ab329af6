"""Amazon's published sandbox examples, answered by the emulated SP-API as the static sandbox does.

The examples (`spproxy/data/sandbox.json`) and how one is matched against a request: examples.py.
The emulator routes every operation of every model: those without a handler of their own in apis/
are answered from their examples only (`examples_only_operations`).

Precedence with the emulator's own handlers (apis/), for one request:
1. an operation on one resource named in its path (getOrder, getShipment, cancelShipment, ...)
   asks its handler first: the emulated seller's own orders, shipments, items and reports answer
   as the emulator keeps them (a cancelled shipment stays cancelled), even where an example
   uses the same id; the handler's refusal (400 or 404: it holds no such resource) goes on to 2;
   so does an operation marked `handler_first` (createFeedDocument: its URL must take uploads);
2. the example naming parameters that the request matches: Amazon's published answer;
3. otherwise the operation's handler, if it has one (not asked again after 1);
4. where the handler refuses (400 or 404) or there is none, a catch-all example;
5. otherwise the handler's refusal; for an operation without handler, 400 InvalidInput "Could not
   match input arguments" (Amazon's words), its details listing the values the examples answer.
A catch-all thus never hides a handler's answer: rotateApplicationClientSecret's only example,
a catch-all 400, answers nothing the handler accepts.

Everything else in the pipeline (spapi.py) comes first and applies to an example's answer as to
any other: injected faults, SigV4, the token the operation needs (an RDT for restricted operations,
covering the request's path; the scope for grantless ones) and usage plans. The PII rule too:
the example bodies of Orders v0 getOrders, getOrder and getOrderItems go through the same filter
as the emulator's own orders (`Operation.example_view`), so an LWA token or an RDT without the
data element gets no BuyerInfo or full address. The Tokens API answers from its handler only
(`Operation.serves_examples`): the RDTs it mints must work here, a published token would not.
`EmulatorConfig.sandbox_examples=False` turns all of this off: only the handlers answer, and the
operations without one are not found (404), as before the examples.

The static sandbox mode (`EmulatorConfig.static_sandbox`) is Amazon's static sandbox and no more
lenient: "Calling the sandbox endpoints returns static, mock responses ... it uses pattern
matching to return a specified response when the specified parameters are present" (SP-API
Developer Guide, "Selling Partner API Sandbox"). So every operation of the models answers from its
examples only, as published, and never from a handler: no emulated seller data, no minted RDTs
(the Tokens API answers only the two bodies its model publishes, with their fixed tokens, and
anything else gets "Could not match input arguments": selling-partner-api-models issue 434), no
PII filter (the sandbox shows the published bodies to any token). Steps 1 to 4 do not apply; a
request no example matches gets step 5's 400, an operation that publishes no example too.
The emulator's own helpers under /_emulator/ are no Amazon API and keep their handlers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiohttp import web

from spproxy.emulator.errors import SpapiError, invalid_input, not_found
from spproxy.emulator.examples import Example, first_match, json_body, published
from spproxy.emulator.limits import model_usage_plans
from spproxy.emulator.operations import Operation
from spproxy.emulator.state import STATE_KEY

NO_MATCH_MESSAGE = "Could not match input arguments"  # Amazon's sandbox, verbatim
_REFUSALS = frozenset({400, 404})  # a handler's "no such resource" or "not for me"


def examples_only_operations(served: Iterable[Operation]) -> tuple[Operation, ...]:
    """A row for every operation of the models that no handler in apis/ serves: answered from its
    examples only, with the model's usage plan."""
    taken = {(operation.method, operation.path) for operation in served}
    plans = model_usage_plans()
    rows = []
    for key, operation in published().items():
        if key in taken:
            continue
        plan = plans.get(key)
        rate = None if plan is None else plan.rate
        rows.append(Operation(operation.name, operation.method, operation.path, None, rate=rate))
    return tuple(rows)


async def respond(request: web.Request, operation: Operation, body: bytes) -> web.StreamResponse:
    """The operation's answer to a request that passed the pipeline's checks (see the module's
    docstring for the precedence)."""
    if is_static_sandbox(request, operation):
        found = published().get((operation.method, operation.path))
        examples = () if found is None else found.examples
        example = first_match(examples, request, json_body(body))
        if example is None:
            raise _no_match(operation, examples, static=True)
        return _served(example, request, operation, view=False)
    examples = _examples_for(request, operation)
    handler = operation.handler
    if handler is None:
        if not request.app[STATE_KEY].config.sandbox_examples:
            raise not_found(
                "Resource not found.",
                f"{operation.name} has no handler and the sandbox examples are off.",
            )
        example = first_match(examples, request, json_body(body))
        if example is None:
            raise _no_match(operation, examples)
        return _served(example, request, operation)
    if not examples:
        return await handler(request)
    document = json_body(body)
    specific = [example for example in examples if example.named]
    on_resource = "{" in operation.path or operation.handler_first
    if not on_resource:
        example = first_match(specific, request, document)
        if example is not None:
            return _served(example, request, operation)
    try:
        return await handler(request)
    except SpapiError as refusal:
        if refusal.status not in _REFUSALS:
            raise
        example = first_match(examples, request, document, catch_all_only=not on_resource)
        if example is None:
            raise
        return _served(example, request, operation)


def is_static_sandbox(request: web.Request, operation: Operation) -> bool:
    """Is it answered as Amazon's static sandbox answers it (see the module's docstring)?"""
    return request.app[STATE_KEY].config.static_sandbox and not operation.emulator_helper


def _examples_for(request: web.Request, operation: Operation) -> tuple[Example, ...]:
    if not operation.serves_examples or not request.app[STATE_KEY].config.sandbox_examples:
        return ()
    found = published().get((operation.method, operation.path))
    return () if found is None else found.examples


def _served(
    example: Example, request: web.Request, operation: Operation, *, view: bool = True
) -> web.Response:
    """The example's answer; `view`: through the operation's PII filter, if it has one."""
    headers = dict(example.headers or {})
    if example.response is None or example.status == 204:
        return web.Response(status=example.status, headers=headers)
    body = example.response
    if view and operation.example_view is not None:
        body = operation.example_view(request, body)
    return web.json_response(body, status=example.status, headers=headers)


def _no_match(
    operation: Operation, examples: Sequence[Example], *, static: bool = False
) -> SpapiError:
    """`static`: in the static sandbox mode, where no handler answers."""
    found = published().get((operation.method, operation.path))
    model = "" if found is None else f" ({found.model})"
    if not examples:
        own = (
            "the static sandbox answers nothing else"
            if static
            else "the emulator has no answer of its own for it"
        )
        return invalid_input(
            NO_MATCH_MESSAGE,
            f"Amazon's model{model} publishes no sandbox example for {operation.name}, and {own}.",
        )
    listed = "; ".join(dict.fromkeys(example.describe() for example in examples))
    return invalid_input(
        NO_MATCH_MESSAGE,
        f"{operation.name} answers the sandbox examples of Amazon's model{model}: {listed}.",
    )
