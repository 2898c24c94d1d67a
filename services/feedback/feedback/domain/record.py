"""A trip's record of what went wrong and what its travellers said: every incident, complaint and survey step in
the order it happened. Plain Python: no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedback.domain.complaints import Complaint
from feedback.domain.incidents import Incident
from feedback.domain.surveys import Survey, SurveyAnswer


@dataclass(frozen=True)
class RecordEntry:
    at: datetime
    subject: str  # incident, complaint or survey
    subject_id: str
    step: str  # what happened to it: reported, acknowledged, proposed, answered, …
    actor: str
    text: str


def trip_record(incidents: list[Incident], complaints: list[Complaint], surveys: list[Survey],
                answers: list[SurveyAnswer]) -> list[RecordEntry]:
    """Oldest first. A revised survey answer shows each time it was given."""
    entries = [RecordEntry(e.at, "incident", i.id, e.kind, e.actor, e.text) for i in incidents for e in i.timeline]
    entries += [RecordEntry(e.at, "complaint", c.id, e.kind, e.actor, e.text) for c in complaints for e in c.timeline]
    for survey in surveys:
        label = "Mid-trip check-in" if survey.kind == "mid_trip" else "Post-trip survey"
        entries.append(RecordEntry(survey.issued_at, "survey", survey.id, "sent", "system",
                                   f"{label} sent to {len(survey.respondents)} traveller(s)"))
        if survey.reminded_at:
            entries.append(RecordEntry(survey.reminded_at, "survey", survey.id, "reminded", "system",
                                       f"{label}: the one reminder"))
    for answer in answers:
        for given in [*answer.history, {"answered_at": answer.answered_at, "scores": answer.scores}]:
            scores = given["scores"]
            entries.append(RecordEntry(given["answered_at"], "survey", answer.survey_id, "answered",
                                       f"client:{answer.customer_id}",
                                       f"Overall {scores.overall}/5, would recommend {scores.nps}/10"))
    return sorted(entries, key=lambda entry: entry.at)
