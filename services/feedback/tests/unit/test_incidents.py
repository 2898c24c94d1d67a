"""The life of an incident: timed where it happened, answered in time or escalated once, documented at each step."""
from datetime import UTC, datetime, timedelta

import pytest

from feedback.domain.incidents import CostImpact, Incident, IncidentConflict, InvalidIncident, local_instant
from trip_shared.money import InvalidMoney

NOW = datetime(2027, 10, 1, 18, 30, tzinfo=UTC)
ZONES = {"flight": "Europe/London", "transfer": "Asia/Tokyo"}


def report(**overrides) -> Incident:
    fields = {"kind": "delay", "severity": "high", "summary": "BA5 delayed 3 hours", "occurred_local":
              "2027-10-01T19:05", "actor": "planner-app", "now": NOW, "item_zones": ZONES, "item_id": "flight",
              "delay_minutes": 180, "on_trip": ["c1", "c2"]}
    return Incident.report("tenant-a", "it-1", **{**fields, **overrides})


def test_an_incident_on_an_item_is_timed_in_that_items_zone_with_a_deadline_set_by_its_severity():
    delay = report()
    assert delay.timezone == "Europe/London" and delay.occurred_at == datetime(2027, 10, 1, 18, 5, tzinfo=UTC)
    assert delay.response_due_at == NOW + timedelta(hours=1)
    assert report(severity="critical").response_due_at == NOW + timedelta(minutes=15)
    assert report(severity="low").response_due_at == NOW + timedelta(hours=24)
    elsewhere = report(timezone="Asia/Tokyo", occurred_local="2027-10-02T03:05")
    assert elsewhere.occurred_at == datetime(2027, 10, 1, 18, 5, tzinfo=UTC), "a zone named wins over the item's"
    assert [(e.kind, e.actor) for e in delay.timeline] == [("reported", "planner-app")]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"kind": "volcano"}, "invalid-kind"),
    ({"severity": "urgent"}, "invalid-severity"),
    ({"item_id": "dinner"}, "item-not-on-trip"),
    ({"delay_minutes": None}, "missing-delay"),
    ({"delay_minutes": 0}, "invalid-delay"),
    ({"kind": "lost_item"}, "invalid-delay"),
    ({"item_id": None, "kind": "illness_or_injury", "delay_minutes": None}, "missing-timezone"),
    ({"timezone": "Mars/Olympus"}, "invalid-timezone"),
    ({"occurred_local": "2027-10-01T19:05+01:00"}, "invalid-time"),
    ({"occurred_local": "2027-10-01"}, "invalid-time"),
    ({"occurred_local": "2027-10-03T19:05"}, "invalid-time"),
    ({"summary": "  "}, "missing-summary"),
    ({"travellers": ["c9"]}, "customer-not-on-trip"),
])
def test_a_report_that_breaks_a_rule_is_refused_with_why(overrides, code):
    with pytest.raises(InvalidIncident) as refused:
        report(**overrides)
    assert refused.value.code == code


def test_a_wall_clock_time_the_zone_skips_is_refused_not_guessed():
    with pytest.raises(InvalidIncident, match="does not exist"):
        local_instant("2027-03-28T01:30", "Europe/London")
    assert local_instant("2027-10-31T01:30", "Europe/London") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_its_life_runs_open_acknowledged_resolved_closed_and_each_step_is_on_the_timeline():
    incident = report()
    incident.acknowledge("ana", NOW + timedelta(minutes=5))
    assert (incident.status, incident.owner, incident.version) == ("acknowledged", "ana", 2)
    with pytest.raises(IncidentConflict):
        incident.acknowledge("ben", NOW + timedelta(minutes=6))
    incident.record("communication", "Told Mei the transfer will wait.", "ana", NOW + timedelta(minutes=7))
    incident.record_cost(CostImpact.of("4500", "jpy", "supplier"), "ana", NOW + timedelta(minutes=8))
    with pytest.raises(IncidentConflict):
        incident.close("ana", NOW)
    incident.resolve("Transfer rebooked for 23:30; hotel told of the late arrival.", "ana", NOW + timedelta(hours=1))
    incident.reopen("The hotel did not get the message.", "ben", NOW + timedelta(hours=2))
    assert incident.status == "acknowledged" and incident.resolved_at is None
    incident.resolve("Hotel confirmed by phone.", "ben", NOW + timedelta(hours=3))
    incident.close("ben", NOW + timedelta(days=1))
    assert [e.kind for e in incident.timeline] == ["reported", "acknowledged", "communication", "cost", "resolved",
                                                   "reopened", "resolved", "closed"]
    assert incident.cost.money.amount == "4500.00" and incident.cost.money.currency == "JPY"
    assert incident.version == len(incident.timeline)
    for step in (lambda: incident.record("action", "more", "x", NOW), lambda: incident.reopen("why", "x", NOW),
                 lambda: incident.resolve("again", "x", NOW)):
        with pytest.raises(IncidentConflict):
            step()


def test_a_resolution_and_an_entry_say_something_and_a_cost_is_exact():
    incident = report()
    with pytest.raises(InvalidIncident):
        incident.resolve(" ", "ana", NOW)
    with pytest.raises(InvalidIncident):
        incident.record("gossip", "x", "ana", NOW)
    with pytest.raises(InvalidIncident):
        CostImpact.of("10", "EUR", "nobody")
    with pytest.raises(InvalidMoney):
        CostImpact.of("10.005", "EUR", "agency")
    assert incident.version == 1 and incident.status == "open"


def test_an_incident_nobody_acknowledges_in_time_escalates_once_and_an_acknowledged_one_never():
    incident = report(severity="critical")
    assert not incident.escalate(NOW + timedelta(minutes=14))
    assert incident.escalate(NOW + timedelta(minutes=20))
    assert "Not acknowledged within 15 min (5 min late)" in incident.timeline[-1].text
    assert not incident.escalate(NOW + timedelta(minutes=30)), "once"
    answered = report(severity="critical")
    answered.acknowledge("ana", NOW + timedelta(minutes=3))
    assert not answered.escalate(NOW + timedelta(hours=1))


def test_ops_figures_count_unresolved_incidents_and_those_nobody_acknowledged_in_time():
    from feedback.domain.incidents import open_incident_figures

    waiting = report(severity="critical")
    taken = report(severity="critical")
    taken.acknowledge("duty planner", NOW + timedelta(minutes=5))
    done = report(severity="high")
    done.resolve("Rebooked on BA7", "planner", NOW + timedelta(minutes=30))
    low = report(severity="low")
    assert open_incident_figures([waiting, taken, done, low], NOW + timedelta(minutes=14)) == (
        {("critical", "open"): 1, ("critical", "acknowledged"): 1, ("low", "open"): 1}, {})
    assert open_incident_figures([waiting, taken, done, low], NOW + timedelta(minutes=15))[1] == {"critical": 1}, \
        "due at 15 minutes: overdue from then, acknowledged ones never"
    assert open_incident_figures([waiting, taken, done, low], NOW + timedelta(days=2))[1] == {"critical": 1,
                                                                                             "low": 1}
