import pytest

from customers.domain.model import Customer, InvalidCustomer, SearchQuery


def register(**kwargs) -> Customer:
    return Customer.register("tenant-a", kwargs.pop("first_name", "Ana"), **kwargs)


def test_first_name_is_the_only_required_field():
    customer = register()
    assert customer.first_name == "Ana"
    assert customer.last_name is None and customer.emails == [] and customer.phones == []
    assert customer.status == "active" and customer.version == 1


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_first_name_is_refused(blank):
    with pytest.raises(InvalidCustomer) as error:
        register(first_name=blank)
    assert error.value.code == "first-name-required"


def test_phones_are_stored_in_e164():
    customer = register(phones=["+44 7911 123456", "+44 (0)20 7946 0958"])
    assert customer.phones == ["+447911123456", "+442079460958"]


def test_the_same_phone_written_twice_is_kept_once():
    assert register(phones=["+44 7911 123456", "+447911123456"]).phones == ["+447911123456"]


@pytest.mark.parametrize("phone", ["12", "not a phone", "+44 12"])
def test_unreadable_phones_are_refused(phone):
    with pytest.raises(InvalidCustomer) as error:
        register(phones=[phone])
    assert error.value.code == "invalid-phone"


def test_emails_are_validated_and_lower_cased():
    assert register(emails=["Ana.Lima@Example.COM"]).emails == ["ana.lima@example.com"]
    with pytest.raises(InvalidCustomer) as error:
        register(emails=["ana@"])
    assert error.value.code == "invalid-email"


def test_search_keys_fold_case_and_accents():
    customer = register(first_name="José", last_name="Ñúñez", emails=["jose@example.com"], phones=["+447911123456"])
    keys = customer.search_keys()
    assert {"jose", "nunez", "jose nunez", "nunez jose", "jose@example.com"} <= set(keys)
    assert customer.phone_digits() == ["07911123456", "447911123456"]


def test_the_index_holds_short_prefixes_and_phone_digit_runs():
    terms = register(first_name="Ana", last_name="Lima", phones=["+447911123456"]).index_entries()
    assert {"a", "an", "ana", "ana l", "ana li", "l", "lima", "lima a"} <= set(terms["search_prefixes"])
    assert "ana lim" not in terms["search_prefixes"], "longer prefixes are checked, not indexed"
    assert {"4479", "0791", "3456"} <= set(terms["phone_grams"])


def test_index_terms_rank_whole_names_before_name_starts_before_emails():
    entries = register(first_name="Li", last_name="Lima Sousa", emails=["lisbon.trips@example.com"],
                       phones=["+447911123456"]).index_entries()
    prefixes = entries["search_prefixes"]
    assert prefixes["li"] == 0 and prefixes["sousa"] == 0 and prefixes["lima"] == 0
    assert prefixes["lim"] == 1 and prefixes["li lim"] == 1 and prefixes["sou"] == 1
    assert prefixes["lisbon"] == 2 and prefixes["lis"] == 2
    assert entries["phone_grams"]["3456"] == 0 and entries["phone_grams"]["7911"] == 1


@pytest.mark.parametrize(
    ("typed", "lookup", "needs_check"),
    [("  ANA ", ("search_prefixes", "ana"), False), ("José", ("search_prefixes", "jose"), False),
     ("ana lima", ("search_prefixes", "ana li"), True), ("+44 7911", ("phone_grams", "7911"), True),
     ("(020) 79", ("phone_grams", "2079"), True), ("123", ("search_prefixes", "123"), False), ("", None, False)],
)
def test_a_query_becomes_an_index_lookup_and_maybe_a_check(typed, lookup, needs_check):
    query = SearchQuery.parse(typed)
    assert query.lookup == lookup and query.needs_check == needs_check


def test_long_queries_are_checked_against_the_whole_keys():
    customer = register(first_name="Ana", last_name="Lima", phones=["+447911123456"])
    keys, phones = customer.search_keys(), customer.phone_digits()
    assert SearchQuery.parse("ana lima").matches(keys, phones)
    assert not SearchQuery.parse("ana limb").matches(keys, phones)
    assert SearchQuery.parse("911 123").matches(keys, phones), "a run of digits from the middle of the number"
    assert not SearchQuery.parse("911 124").matches(keys, phones)


def test_update_reports_only_real_changes_and_bumps_the_version():
    customer = register(last_name="Lima")
    assert customer.update({"last_name": "Lima"}) == []
    assert customer.version == 1
    assert customer.update({"last_name": "Silva", "status": "inactive"}) == [
        ("last_name", "Lima", "Silva"), ("status", "active", "inactive")]
    assert customer.version == 2 and customer.status == "inactive"


def test_update_refuses_unknown_fields_and_statuses():
    customer = register()
    with pytest.raises(InvalidCustomer):
        customer.update({"id": "x"})
    with pytest.raises(InvalidCustomer):
        customer.update({"status": "deleted"})
    assert customer.version == 1


def test_identity_details_are_validated_and_normalised():
    from datetime import date

    customer = register(nationality="cn", passport_number="e 1234-5678", passport_expiry=date(2030, 1, 1),
                        date_of_birth=date(1990, 5, 17), notes="  Travels with her sister Lin  ")
    assert customer.nationality == "CN" and customer.passport_number == "E12345678"
    assert customer.notes == "Travels with her sister Lin"
    for bad, code in ((dict(nationality="China"), "invalid-nationality"),
                      (dict(passport_number="12"), "invalid-passport"),
                      (dict(date_of_birth=date(2999, 1, 1)), "invalid-date-of-birth"),
                      (dict(notes="x" * 5001), "notes-too-long")):
        with pytest.raises(InvalidCustomer) as error:
            register(**bad)
        assert error.value.code == code


def test_a_new_customer_cannot_start_inactive():
    with pytest.raises(InvalidCustomer):
        register(status="inactive")


def test_duplicates_are_recognised_by_email_phone_or_full_name():
    from customers.domain.model import duplicate_reasons

    ana = register(last_name="Lima", emails=["ana@example.com"], phones=["+447911123456"])
    assert duplicate_reasons(register(first_name="Anna", emails=["ANA@example.com"]), ana) == [
        "same e-mail ana@example.com"]
    assert duplicate_reasons(register(first_name="X", phones=["+44 7911 123456"]), ana) == ["same phone +447911123456"]
    assert duplicate_reasons(register(first_name="ána", last_name="LIMA"), ana) == ["same name"]
    assert duplicate_reasons(register(first_name="Ana"), ana) == [], "a first name alone is too common to flag"


def test_consultation_rules():
    from customers.domain.consultation import Consultation, InvalidPreferences

    first = Consultation.record("c1", "t", 0, {"pace": "relaxed"}, "interview", "planner")
    assert first.version == 1
    assert Consultation.record("c1", "t", first.version, {}, "questionnaire", "planner").version == 2
    for preferences, code in (({"budget": {"minimum": 5000, "maximum": 1000, "currency": "EUR"}}, "budget-range-inverted"),
                              ({"travel_dates": {"start": "2027-05-02", "end": "2027-05-01"}}, "end-before-start"),
                              ({"party_adults": 0}, "empty-party")):
        with pytest.raises(InvalidPreferences) as error:
            Consultation.record("c1", "t", 0, preferences, "interview", "planner")
        assert error.value.code == code


def test_merging_takes_the_duplicates_details_and_marks_it_merged():
    from datetime import date

    from trip_shared.errors import ConflictError

    survivor = register(emails=["ana@example.com"], notes="Prefers window seats")
    duplicate = register(last_name="Lima", emails=["ana@work.example"], phones=["+447911123456"],
                         date_of_birth=date(1990, 1, 2), notes="Travels with Lin")
    changed = survivor.absorb(duplicate)
    assert survivor.emails == ["ana@example.com", "ana@work.example"] and survivor.phones == ["+447911123456"]
    assert survivor.last_name == "Lima" and survivor.date_of_birth == date(1990, 1, 2)
    assert survivor.notes == "Prefers window seats\nTravels with Lin"
    assert {name for name, _, _ in changed} == {"emails", "phones", "last_name", "date_of_birth", "notes"}
    assert (duplicate.status, duplicate.merged_into, duplicate.version) == ("merged", survivor.id, 2)
    with pytest.raises(ConflictError):
        duplicate.update({"first_name": "Zed"})
    with pytest.raises(ConflictError):
        register().absorb(duplicate)
    with pytest.raises(InvalidCustomer):
        survivor.absorb(survivor)


@pytest.mark.parametrize(("first", "other", "similar"), [
    ("Jon", "John", True), ("Anna", "Ana", True), ("Mei", "Mai", True), ("Chloé", "Chloe", False),
    ("Jon", "Joan", True), ("Ana", "Eva", False), ("Al", "Ali", False), ("Sara", "Sarah", True)])
def test_near_identical_first_names_with_the_same_last_name_are_flagged(first, other, similar):
    from customers.domain.model import duplicate_reasons

    existing = register(first_name=other, last_name="Lima")
    reasons = duplicate_reasons(register(first_name=first, last_name="LIMA"), existing)
    if first == "Chloé":
        assert reasons == ["same name"], "accents fold: that is the same name"
    else:
        assert (reasons == ["similar name"]) is similar
