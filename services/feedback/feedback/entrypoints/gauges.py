"""What feedback tells Prometheus, read at each scrape: incidents not yet resolved by severity (and those nobody
acknowledged in time), and how many travellers answer the surveys of the last 30 days."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from feedback.adapters.repository import PlatformFigures
from feedback.domain.analytics import response_rates
from feedback.domain.incidents import OPEN_STATUSES, SEVERITIES, open_incident_figures
from feedback.domain.surveys import KINDS
from trip_shared.clock import utc_now
from trip_shared.runtime import ServiceRuntime

SURVEY_WINDOW = timedelta(days=30)


def register(runtime: ServiceRuntime) -> None:
    metrics = runtime.metrics
    source = PlatformFigures(runtime.store.db)
    unresolved = metrics.figures("incidents_open", "Incidents not yet resolved, by severity and status",
                                 ["severity", "status"],
                                 always=[(severity, status) for severity in SEVERITIES for status in OPEN_STATUSES])
    overdue = metrics.figures("incidents_unacknowledged_overdue", "Open incidents nobody acknowledged within their "
                              "severity's time to respond", ["severity"], always=[(s,) for s in SEVERITIES])
    asked = metrics.figures("survey_travellers_asked", "Travellers asked to answer a survey issued in the last 30 "
                            "days", ["kind"], always=[(kind,) for kind in KINDS])
    answered = metrics.figures("survey_travellers_answered", "Of those, the travellers who answered", ["kind"],
                               always=[(kind,) for kind in KINDS])

    async def refresh() -> None:
        now = utc_now()
        open_ones, late = open_incident_figures(await source.unresolved_incidents(), now)
        unresolved.replace(open_ones)
        overdue.replace({(severity,): count for severity, count in late.items()})
        surveys, counts = await source.surveys_issued_since(now - SURVEY_WINDOW)
        rates = response_rates(surveys, Counter(counts))
        asked.replace({(row["kind"],): row["asked"] for row in rates})
        answered.replace({(row["kind"],): row["answered"] for row in rates})

    metrics.before_scrape(refresh)
