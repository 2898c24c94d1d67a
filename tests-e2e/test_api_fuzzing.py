"""Schemathesis over every service's OpenAPI, at a size that fits `make test`: no server error, every status code,
content type and body as documented. `python -m trip_shared.testing.fuzz` runs the same, far larger."""
from __future__ import annotations

import pytest

from trip_shared.testing.fuzz import fuzz

pytestmark = pytest.mark.e2e


def test_every_service_answers_generated_requests_as_its_openapi_says(stack, fuzz_agency, tmp_path):
    reports = fuzz({name: stack.service_url(name) for name in stack.services}, fuzz_agency,
                   max_examples=8, phases="fuzzing", workers=4, report_dir=tmp_path)
    assert {report.service for report in reports} == set(stack.services)
    problems = {report.service: report.failures for report in reports if not report.ok}
    assert problems == {}, problems
    assert all(report.operations >= 10 for report in reports), [(r.service, r.operations) for r in reports]
    assert sum(report.test_cases for report in reports) > 500
