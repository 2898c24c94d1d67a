"""Which channel a client message takes, and what a text says."""
from notify.domain.channels import fallback_channel, listed_facts, primary_channel, sms_text
from notify.domain.model import Contact
from notify.domain.preferences import MessagePreferences, NoChannel
from trip_shared.agency import AgencyProfile

BOTH = Contact("c1", "Mei", emails=["mei@example.com"], phones=["+447700900123"])
PHONE_ONLY = Contact("c2", "Bo", phones=["+447700900456"])
NEITHER = Contact("c3", "Cy")
AGENCY = AgencyProfile(name="Demo Travel Co.", support_phone="+44 20 7946 0000", emergency_phone="+44 20 7946 0999")


def test_email_first_by_default_and_a_text_for_whoever_has_only_a_phone():
    accepted = MessagePreferences("x").channels
    assert primary_channel(BOTH, accepted, sms_available=True) == "email"
    assert primary_channel(PHONE_ONLY, accepted, sms_available=True) == "sms"


def test_without_an_sms_provider_or_any_address_it_stays_email_and_shows_as_no_address():
    assert primary_channel(PHONE_ONLY, ["email", "sms"], sms_available=False) == "email"
    assert primary_channel(NEITHER, ["email", "sms"], sms_available=True) == "email"


def test_the_clients_preferred_order_and_refusals_are_honoured():
    assert primary_channel(BOTH, ["sms", "email"], sms_available=True) == "sms"
    assert primary_channel(PHONE_ONLY, ["email"], sms_available=True) == "email", "texts refused: none is sent"


def test_urgent_news_falls_back_to_the_next_channel_that_reaches_them():
    assert fallback_channel("email", BOTH, ["email", "sms"], sms_available=True) == "sms"
    assert fallback_channel("sms", BOTH, ["sms", "email"], sms_available=True) == "email"
    assert fallback_channel("email", BOTH, ["email"], sms_available=True) is None
    assert fallback_channel("sms", PHONE_ONLY, ["email", "sms"], sms_available=True) is None


def test_a_client_must_keep_one_channel():
    preferences = MessagePreferences("c1")
    preferences.choose_channels(["sms", "sms", "email"])
    assert preferences.channels == ["sms", "email"]
    try:
        preferences.choose_channels([])
    except NoChannel as refused:
        assert refused.code == "no-channel"
    else:
        raise AssertionError("no channel at all was accepted")


def test_a_text_names_the_agency_lists_the_facts_the_link_and_the_24_7_line():
    body = "Dear Mei,\n\nChanged:\n  - Your flight BA5 now leaves at 19:50 London time instead of 20:20.\n\nBye\n"
    text = sms_text("Changes to your trip", listed_facts(body), "https://x.example/p/1", AGENCY, "en")
    assert text.splitlines() == ["Demo Travel Co.: Changes to your trip",
                                 "Your flight BA5 now leaves at 19:50 London time instead of 20:20.",
                                 "https://x.example/p/1", "24/7 help: +44 20 7946 0999"]
    assert sms_text("行程有变动", [], None, AGENCY, "zh-Hans").endswith("24小时紧急电话：+44 20 7946 0999")


def test_a_text_too_long_for_one_message_drops_facts_never_the_link_or_the_number():
    text = sms_text("Changes", [f"change {n} " + "x" * 90 for n in range(40)], "https://x.example/p/1", AGENCY, "en")
    assert len(text) <= 1600
    assert text.endswith("https://x.example/p/1\n24/7 help: +44 20 7946 0999") and "…" in text
