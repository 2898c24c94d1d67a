"""The life of a complaint: taken down as the client said it, analysed, offered a remedy, answered by the client."""
from datetime import UTC, datetime, timedelta

import pytest

from feedback.domain.complaints import Complaint, ComplaintConflict, InvalidComplaint, Proposal
from trip_shared.money import InvalidMoney

NOW = datetime(2027, 10, 5, 9, 0, tzinfo=UTC)


def record(**overrides) -> Complaint:
    fields = {"source": "client", "complainant": "c1", "account": "  The class started an hour late.  ",
              "actor": "client:c1", "now": NOW, "on_trip": ["c1", "c2"], "items": ["class", "hotel"],
              "item_id": "class", "language": "zh-Hans"}
    return Complaint.record("tenant-a", "it-1", **{**fields, **overrides})


def offer(remedy="refund", amount="120", currency="eur", message="We refund the class.", at=NOW):
    return Proposal.of(remedy, amount, currency, message, "ana", at)


def test_a_complaint_is_kept_in_the_clients_words_with_an_offer_due_within_three_days():
    complaint = record()
    assert complaint.account == "The class started an hour late."
    assert (complaint.status, complaint.due_at, complaint.language) == ("received", NOW + timedelta(days=3),
                                                                        "zh-Hans")
    assert not complaint.overdue(NOW + timedelta(days=2, hours=23))
    assert complaint.overdue(NOW + timedelta(days=3))
    assert [(e.kind, e.actor) for e in complaint.timeline] == [("received", "client:c1")]


@pytest.mark.parametrize(("overrides", "code"), [
    ({"complainant": "stranger"}, "customer-not-on-trip"),
    ({"item_id": "dinner"}, "item-not-on-trip"),
    ({"account": "   "}, "missing-account"),
    ({"account": "x" * 5001}, "text-too-long"),
    ({"source": "rumour"}, "invalid-source"),
    ({"language": "fr"}, "invalid-language"),
])
def test_a_complaint_that_cannot_be_true_of_this_trip_is_refused(overrides, code):
    with pytest.raises(InvalidComplaint) as refused:
        record(**overrides)
    assert refused.value.code == code


def test_an_offer_comes_after_the_analysis_and_gives_the_client_two_weeks_to_answer():
    complaint = record()
    with pytest.raises(ComplaintConflict):
        complaint.propose(offer())
    with pytest.raises(InvalidComplaint) as unnamed:
        complaint.analyse("supplier", "Teacher double-booked.", "ana", NOW)
    assert unnamed.value.code == "missing-supplier"
    complaint.analyse("supplier", "Teacher double-booked.", "ana", NOW, supplier="Kyoto Cooking School")
    assert (complaint.status, complaint.owner, complaint.supplier) == ("analysed", "ana", "Kyoto Cooking School")
    complaint.propose(offer())
    assert complaint.status == "proposed" and complaint.due_at is None and not complaint.overdue(NOW + timedelta(9))
    assert complaint.answer_by == NOW + timedelta(days=14)
    assert (complaint.proposal.money.amount, complaint.proposal.money.currency) == ("120.00", "EUR")
    complaint.accept("client:c1", NOW + timedelta(days=1))
    assert complaint.status == "accepted" and complaint.due_at == NOW + timedelta(days=4), "now to carry it out"
    complaint.close(None, "ana", NOW + timedelta(days=2))
    assert complaint.status == "closed"
    assert [e.kind for e in complaint.timeline] == ["received", "analysed", "proposed", "accepted", "closed"]
    assert complaint.version == 5
    with pytest.raises(ComplaintConflict):
        complaint.note("late note", "ana", NOW + timedelta(days=3))


def test_an_escalated_offer_goes_back_to_the_agency_with_a_shorter_deadline_and_keeps_the_first_offer():
    complaint = record()
    complaint.analyse("agency", "We sent the wrong start time.", "ana", NOW)
    complaint.propose(offer("apology", None, None, "We are sorry."))
    later = NOW + timedelta(days=1)
    with pytest.raises(InvalidComplaint):
        complaint.escalate("  ", "client:c1", later)
    complaint.escalate("An apology is not enough: we lost the evening.", "client:c1", later)
    assert complaint.status == "escalated" and complaint.due_at == later + timedelta(days=2)
    assert complaint.escalation_reason == "An apology is not enough: we lost the evening."
    assert complaint.answer_by is None and complaint.overdue(later + timedelta(days=2))
    complaint.propose(offer("credit", "80", "EUR", "A credit of 80 EUR for your next trip.", at=later))
    assert [p.remedy for p in complaint.proposals] == ["apology", "credit"]
    assert complaint.proposal.remedy == "credit"


def test_a_lapsed_offer_cannot_be_accepted_and_closes_only_with_a_note():
    complaint = record()
    complaint.analyse("external", "A typhoon closed the school.", "ana", NOW)
    complaint.propose(offer())
    with pytest.raises(ComplaintConflict):
        complaint.close("no answer", "ana", NOW + timedelta(days=13))
    lapsed = NOW + timedelta(days=15)
    with pytest.raises(ComplaintConflict) as late:
        complaint.accept("client:c1", lapsed)
    assert late.value.code == "offer-lapsed"
    with pytest.raises(InvalidComplaint):
        complaint.close(None, "ana", lapsed)
    complaint.close("No answer in two weeks; refund paid anyway.", "ana", lapsed)
    assert complaint.status == "closed"


@pytest.mark.parametrize(("remedy", "amount", "currency", "error"), [
    ("apology", "10", "EUR", "invalid-amount"),
    ("refund", None, None, "missing-amount"),
    ("credit", "0", "EUR", "invalid-amount"),
    ("voucher", "10", "EUR", "invalid-remedy"),
    ("refund", "10", "EUR", None),
])
def test_an_offer_names_money_only_for_a_credit_or_a_refund(remedy, amount, currency, error):
    if error is None:
        assert offer(remedy, amount, currency).money.amount == "10.00"
        return
    with pytest.raises(InvalidComplaint) as refused:
        offer(remedy, amount, currency)
    assert refused.value.code == error


def test_money_that_is_not_money_is_refused():
    with pytest.raises(InvalidMoney):
        offer("refund", "12.345", "EUR")


def test_erasure_takes_the_clients_and_the_agencys_words_and_keeps_the_figures():
    complaint = record()
    complaint.note("Called the school.", "ana", NOW)
    complaint.analyse("supplier", "Teacher double-booked.", "ana", NOW, supplier="Kyoto Cooking School")
    complaint.propose(offer())
    complaint.escalate("Not enough.", "client:c1", NOW)
    complaint.forget_personal_text("[erased]")
    assert {complaint.account, complaint.finding, complaint.escalation_reason,
            complaint.proposal.message} == {"[erased]"}
    assert (complaint.cause, complaint.supplier, complaint.proposal.money.amount) == \
        ("supplier", "Kyoto Cooking School", "120.00")
    assert {e.text for e in complaint.timeline if e.kind in ("note", "escalated")} == {"[erased]"}
