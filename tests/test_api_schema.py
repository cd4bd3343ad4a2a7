"""schemathesis against /api/v1/openapi.json: generated requests for every operation never get a
server error, and every answer matches the document (status, content type, body schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from factories import World, issue, register
from oneforone.accounts import actions as account_actions
from oneforone.registry import actions as registry_actions

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
EXAMPLES_PER_OPERATION = 60


@pytest.fixture
def partner_key(world: World) -> Iterator[str]:
    """A read+write key of a partner with a registration, a certificate and a held device, so
    that generated ids sometimes hit real rows; requests run in the test's transaction."""
    register(world, quantity=2)
    register(world, quantity=1, imeis=["490154203237518"])
    issue(world, 3)
    registry_actions.allocate(actor=world.operator_user)
    _, raw = account_actions.create_api_key(
        actor=world.partner_admin, organisation=world.partner, name="schemathesis"
    )
    # As Django's test client does: requests must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield raw
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case, partner_key: str, settings: object
) -> None:
    # Thousands of requests in a minute: limits are tested elsewhere, schemas here.
    settings.RATE_LIMITS = dict.fromkeys(  # type: ignore[attr-defined]
        ("api-key-read", "api-key-write", "verify-device", "public-api"), "1000000/minute"
    )
    case.call_and_validate(
        headers={"X-API-Key": partner_key},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
