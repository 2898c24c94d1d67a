import pytest

from trip_shared.money import InvalidMoney, Money


def test_money_is_exact_and_names_its_currency():
    assert Money.of("66000", "jpy") == Money("66000.00", "JPY")
    assert Money.of(12.5, " eur ") == Money("12.50", "EUR")
    for amount, currency in (("-1", "JPY"), ("1.005", "EUR"), ("abc", "EUR"), ("1", "EU"), ("NaN", "EUR"),
                             ("1", "E1R")):
        with pytest.raises(InvalidMoney):
            Money.of(amount, currency)
