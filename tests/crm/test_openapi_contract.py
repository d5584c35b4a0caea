"""The OpenAPI document is accurate: generated requests to every operation get answers whose
status codes, content types and bodies match what the document promises, and never a 500."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 8
# Not "positive data acceptance": the server rightly refuses some schema-valid input that a
# schema cannot describe (a reserved email domain, a duplicate, a business rule).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_every_operation_keeps_its_contract(app, admin_headers, seeded):
    # Driven by hand rather than with schemathesis' pytest plugin, which does not run on
    # pytest 9 yet.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, checked = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=admin_headers, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # report every operation at once
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
        checked += 1
    assert checked >= 35
    assert not failures, "\n\n".join(failures)
