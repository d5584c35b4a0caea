"""The OpenAPI document is accurate: generated requests to every operation get answers whose
status codes, content types and bodies match what the document promises, and never a 500."""

import schemathesis
from hypothesis import HealthCheck, given, settings

EXAMPLES = 8


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
            case.call_and_validate(headers=admin_headers)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
        checked += 1
    assert checked >= 35
    assert not failures, "\n\n".join(failures)
