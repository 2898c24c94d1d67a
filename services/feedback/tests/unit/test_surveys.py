"""When surveys go, who answers them, and what a low answer sets off."""
from datetime import UTC, datetime, timedelta

import pytest

from feedback.domain.surveys import (
    InvalidAnswer,
    Scores,
    Survey,
    SurveyAnswer,
    SurveyClosed,
    SurveySettings,
    due_kinds,
    follow_up_account,
)

TRIP = {"_id": "it-1", "stage": "in_progress", "start_date": "2026-10-01", "end_date": "2026-10-05",
        "members": [{"customer_id": "c1", "is_poc": True}, {"customer_id": "c2", "is_poc": False}],
        "items": [
            {"item_id": "flight", "kind": "flight", "title": "BA5", "timezone": "Asia/Tokyo",
             "starts_at": datetime(2026, 10, 1, 1, 0, tzinfo=UTC)},
            {"item_id": "free", "kind": "free_time", "title": "Gion", "timezone": "Asia/Tokyo",
             "starts_at": datetime(2026, 10, 1, 8, 0, tzinfo=UTC)},
            {"item_id": "class", "kind": "activity", "title": "Cooking class", "timezone": "Asia/Tokyo",
             "starts_at": datetime(2026, 10, 4, 1, 0, tzinfo=UTC)}]}
SETTINGS = SurveySettings()
# 18:00 in Tokyo on the trip's second day.
CHECK_IN = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)


def test_the_check_in_goes_at_six_in_the_evening_of_its_day_where_the_trip_is_and_only_once():
    assert due_kinds(TRIP, SETTINGS, CHECK_IN - timedelta(minutes=1)) == []
    assert due_kinds(TRIP, SETTINGS, CHECK_IN) == ["mid_trip"]
    assert due_kinds({**TRIP, "surveys_issued": ["mid_trip"]}, SETTINGS, CHECK_IN + timedelta(days=1)) == []
    assert due_kinds({**TRIP, "stage": "booked"}, SETTINGS, CHECK_IN) == [], "not before the trip is under way"
    assert due_kinds(TRIP, SurveySettings(mid_trip_day=0), CHECK_IN) == [], "the agency wants none"
    assert due_kinds(TRIP, SurveySettings(mid_trip_day=5), datetime(2026, 10, 6, tzinfo=UTC)) == [], \
        "a check-in on the last day would be the survey's job"


def test_the_survey_goes_once_the_trip_has_been_completed_for_the_agencys_delay():
    done = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
    completed = {**TRIP, "stage": "completed", "completed_at": done, "surveys_issued": ["mid_trip"]}
    assert due_kinds(completed, SETTINGS, done + timedelta(hours=23)) == []
    assert due_kinds(completed, SETTINGS, done + timedelta(hours=24)) == ["post_trip"]
    assert due_kinds(completed, SurveySettings(post_trip_delay_hours=0), done) == ["post_trip"]


def test_the_check_in_rates_what_has_happened_and_the_survey_everything_but_free_time():
    check_in = Survey.issue("tenant-a", TRIP, "mid_trip", ["JAL", "JAL", "Kyoto Cooking School"], SETTINGS,
                            CHECK_IN)
    assert [item["item_id"] for item in check_in.items] == ["flight"]
    assert check_in.suppliers == ["JAL", "Kyoto Cooking School"] and check_in.respondents == ["c1", "c2"]
    survey = Survey.issue("tenant-a", TRIP, "post_trip", [], SETTINGS, CHECK_IN)
    assert [item["item_id"] for item in survey.items] == ["flight", "class"]
    assert survey.id == "it-1:post_trip", "one survey of a kind per trip"


def test_one_reminder_goes_to_those_who_have_not_answered():
    survey = Survey.issue("tenant-a", TRIP, "mid_trip", [], SETTINGS, CHECK_IN)
    assert survey.remind(set(), CHECK_IN + timedelta(hours=71)) == []
    assert survey.remind({"c1"}, CHECK_IN + timedelta(hours=72)) == ["c2"]
    assert survey.remind(set(), CHECK_IN + timedelta(hours=96)) == [], "one reminder"


def answer(survey, customer="c1", earlier=None, **scores):
    return SurveyAnswer.give(survey, customer, Scores(**{"overall": 4, "nps": 9, **scores}), language="en",
                             on_trip=["c1", "c2"], trip_started=True, now=CHECK_IN + timedelta(hours=1),
                             earlier=earlier)


def test_a_second_answer_revises_the_first_and_keeps_it():
    survey = Survey.issue("tenant-a", TRIP, "mid_trip", ["JAL"], SETTINGS, CHECK_IN)
    first = answer(survey, item_ratings={"flight": 5}, supplier_ratings={"JAL": 4}, comment="Lovely so far")
    assert first.id == "it-1:mid_trip:c1" and not first.scores.low
    revised = answer(survey, earlier=first, overall=2, nps=3)
    assert revised is first and revised.version == 2 and revised.scores.overall == 2
    assert [entry["scores"].overall for entry in revised.history] == [4]
    assert revised.needs_follow_up
    assert follow_up_account(revised.scores, "mid_trip") == "Mid-trip check-in: overall 2/5, would recommend 3/10."
    revised.forget_comments("[erased]")
    assert revised.history[0]["scores"].comment == "[erased]" and revised.scores.comment is None


@pytest.mark.parametrize(("change", "error"), [
    ({"customer": "stranger"}, "not-a-respondent"),
    ({"overall": 0}, "invalid-overall"),
    ({"nps": 11}, "invalid-nps"),
    ({"item_ratings": {"class": 5}}, "not-in-survey"),
    ({"supplier_ratings": {"JAL": 6}}, "invalid-rating"),
    ({"comment": "x" * 5001}, "comment-too-long"),
])
def test_an_answer_that_cannot_be_right_is_refused(change, error):
    survey = Survey.issue("tenant-a", TRIP, "mid_trip", ["JAL"], SETTINGS, CHECK_IN)
    with pytest.raises(InvalidAnswer) as refused:
        answer(survey, **change)
    assert refused.value.code == error


def test_not_before_the_trip_starts_nor_after_the_survey_closes():
    survey = Survey.issue("tenant-a", TRIP, "mid_trip", [], SETTINGS, CHECK_IN)
    with pytest.raises(InvalidAnswer) as early:
        SurveyAnswer.give(survey, "c1", Scores(4, 9), language="en", on_trip=["c1"], trip_started=False,
                          now=CHECK_IN)
    assert early.value.code == "trip-not-started"
    with pytest.raises(SurveyClosed):
        SurveyAnswer.give(survey, "c1", Scores(4, 9), language="en", on_trip=["c1"], trip_started=True,
                          now=CHECK_IN + timedelta(days=31))
    with pytest.raises(InvalidAnswer):
        SurveyAnswer.give(survey, "c2", Scores(4, 9), language="en", on_trip=["c1"], trip_started=True,
                          now=CHECK_IN), "a traveller taken off the trip since"
