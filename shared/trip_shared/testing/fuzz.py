"""Schemathesis over every service's OpenAPI document: no server errors, and every response as documented.

    .venv/bin/python -m trip_shared.testing.fuzz                  # a fresh local stack, every phase, 50 per operation
    .venv/bin/python -m trip_shared.testing.fuzz --examples 200 --phases fuzzing,stateful
    .venv/bin/python -m trip_shared.testing.fuzz --stack var/stack.json   # against the stack `make up` runs

The services run side by side, each with Schemathesis' own workers. Prints, per service, the operations, test
cases and failures, and exits 1 if any check failed (the JSON reports stay in the report directory).
``make test`` runs a bounded pass of the same (``tests-e2e/test_api_fuzzing.py``).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


@dataclass(frozen=True)
class FuzzReport:
    service: str
    operations: int
    test_cases: int
    failures: list[str]
    seconds: float
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.failures


# Schemathesis's CLI, with anyio imported before its workers start: each worker imports it on its first request, and
# anyio's lazy importer compiles its own source, which CPython 3.11 does not survive from four threads at once
# ("SystemError: AST constructor recursion depth mismatch", seen once in CI as a Runtime Error of the run).
_SCHEMATHESIS = ("import sys, anyio, schemathesis.transport.asgi; from schemathesis.cli import schemathesis; "
                 "sys.argv[0] = 'st'; sys.exit(schemathesis())")


def _schemathesis() -> list[str]:
    return [sys.executable, "-c", _SCHEMATHESIS]


def fuzz(services: dict[str, str], api_key: str, *, max_examples: int, phases: str, workers: int = 4,
         report_dir: Path, seed: int | None = None, timeout_s: float = 1800) -> list[FuzzReport]:
    """Run Schemathesis against every service at once; one report per service."""
    report_dir.mkdir(parents=True, exist_ok=True)
    running = {}
    for service, url in services.items():
        report = report_dir / f"{service}.json"
        command = [*_schemathesis(), "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {api_key}",
                   "--checks", ",".join(CHECKS), "--max-examples", str(max_examples), "--phases", phases,
                   "--workers", str(workers), "--no-color", "--warnings", "off", "--generation-database", "none",
                   # The probes take no input, and a 503 is what /readyz is for (an overloaded machine says so).
                   "--exclude-path-regex", "^/(healthz|readyz)$",
                   # How fast examples are generated says nothing of the API, and a busy 2-core machine trips it.
                   "--suppress-health-check", "too_slow",
                   "--report", "json", "--report-json-path", str(report)]
        if seed is not None:
            command += ["--seed", str(seed)]
        log = open(report_dir / f"{service}.log", "w")  # noqa: SIM115 - closed when the process is collected
        running[service] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=report_dir),
                            report, log)
    reports = []
    deadline = time.monotonic() + timeout_s
    for service, (process, report, log) in running.items():
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if not report.exists():
            reports.append(FuzzReport(service, 0, 0, [f"no report; see {report_dir / (service + '.log')}"], 0.0,
                                      process.returncode or 1))
            continue
        data = json.loads(report.read_text())
        failures = [f"{', '.join(failure.get('operations', ['?']))}: {failure.get('title') or failure}"
                    for failure in data.get("failures", [])]
        failures += [f"error: {error}" for error in data.get("errors", [])]
        reports.append(FuzzReport(service, data["operations"]["tested"], data["test_cases"]["generated"], failures,
                                  round(data["running_time"], 1), data["exit_code"]))
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trip_shared.testing.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="test cases per operation and phase (default 50)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    # One worker per service: Hypothesis' coverage phase is not thread-safe (a "Runtime Error" in its own code).
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--stack", type=Path, help="stack.json of a running stack (default: start a fresh one)")
    parser.add_argument("--report-dir", type=Path, default=Path("var/fuzz"))
    args = parser.parse_args(argv)

    def run(info: dict) -> list[FuzzReport]:
        return fuzz(info["services"], info["api_key"], max_examples=args.examples, phases=args.phases,
                    workers=args.workers, report_dir=args.report_dir.resolve(), seed=args.seed)

    started = time.monotonic()
    if args.stack:
        reports = run(json.loads(args.stack.read_text()))
    else:
        from trip_shared.devstack import EmbeddedStack

        print("starting a fresh local stack…", flush=True)
        with EmbeddedStack(tempfile.mkdtemp(prefix="trip-desk-fuzz-"), ephemeral=True) as stack:
            reports = run(stack.stack_info)
    print(f"\n{'service':<10} {'operations':>10} {'test cases':>11} {'failures':>9} {'seconds':>8}")
    for report in reports:
        print(f"{report.service:<10} {report.operations:>10} {report.test_cases:>11} {len(report.failures):>9} "
              f"{report.seconds:>8}")
    total = sum(report.test_cases for report in reports)
    failed = [failure for report in reports for failure in report.failures]
    print(f"{'all':<10} {sum(r.operations for r in reports):>10} {total:>11} {len(failed):>9} "
          f"{round(time.monotonic() - started, 1):>8}")
    for report in reports:
        for failure in report.failures:
            print(f"  {report.service}: {failure}")
    print(f"reports: {args.report_dir}")
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
