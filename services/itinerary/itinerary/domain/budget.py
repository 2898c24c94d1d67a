"""What the trip costs the agency, what it is sold for, and how that compares with the client's budget.

Plain Python, no I/O. Totals stay per currency. To compare a mixed-currency trip with the client's budget, each
other currency is converted with a rate the agency entered (its date and source shown beside it); a rate that
is missing is named, never guessed, and the trip is then not comparable.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from itinerary.domain.agency_settings import ExchangeRate
from itinerary.domain.items import COST_CATEGORIES, Item

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ClientBudget:
    minimum: Decimal | None
    maximum: Decimal | None
    currency: str


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    cost: Decimal
    price: Decimal  # with markup: what the client pays
    by_category: dict[str, Decimal]


@dataclass(frozen=True)
class Conversion:
    """A currency's price in the budget's currency, and the rate it took."""

    from_currency: str
    to_currency: str
    amount: Decimal
    converted: Decimal
    rate: ExchangeRate
    inverted: bool  # the agency gave the rate the other way round


@dataclass(frozen=True)
class BudgetSummary:
    markup_percent: Decimal
    totals: list[CurrencyTotal]
    client_budget: ClientBudget | None
    status: str  # within / under / over / no_budget / not_comparable
    message: str
    unpriced_items: list[str]
    conversions: list[Conversion] = field(default_factory=list)
    missing_rates: list[str] = field(default_factory=list)  # "JPY/EUR"
    price_in_budget_currency: Decimal | None = None


def summarise(items: list[Item], markup_percent: Decimal, client_budget: ClientBudget | None,
              rates: tuple[ExchangeRate, ...] = ()) -> BudgetSummary:
    by_currency: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for item in items:
        if item.cost:
            by_currency[item.cost.currency][item.cost.category] += item.cost.amount
    factor = 1 + markup_percent / 100
    totals = []
    for currency in sorted(by_currency):
        categories = by_currency[currency]
        cost = sum(categories.values(), Decimal(0))
        totals.append(CurrencyTotal(
            currency, cost, (cost * factor).quantize(CENT, ROUND_HALF_UP),
            {category: categories[category] for category in COST_CATEGORIES if category in categories}))
    unpriced = [item.id for item in items if item.cost is None and item.kind not in ("free_time",)]
    if client_budget is None or (client_budget.minimum is None and client_budget.maximum is None):
        return BudgetSummary(markup_percent, totals, client_budget, "no_budget",
                             "The client has not given a budget in a consultation.", unpriced)
    conversions, missing = [], []
    price = Decimal(0)
    for total in totals:
        if total.currency == client_budget.currency:
            price += total.price
            continue
        conversion = _convert(total, client_budget.currency, rates)
        if conversion is None:
            missing.append(f"{total.currency}/{client_budget.currency}")
        else:
            conversions.append(conversion)
            price += conversion.converted
    if missing:
        return BudgetSummary(markup_percent, totals, client_budget, "not_comparable",
                             f"No exchange rate for {', '.join(missing)}: enter the agency's rate to compare "
                             f"this trip with the client's budget in {client_budget.currency}.", unpriced,
                             conversions, missing)
    status, message = _against(price, client_budget, conversions)
    return BudgetSummary(markup_percent, totals, client_budget, status, message, unpriced, conversions, [], price)


def _convert(total: CurrencyTotal, currency: str, rates: tuple[ExchangeRate, ...]) -> Conversion | None:
    direct = next((rate for rate in rates if (rate.from_currency, rate.to_currency) == (total.currency, currency)),
                  None)
    if direct:
        return Conversion(total.currency, currency, total.price, (total.price * direct.rate).quantize(
            CENT, ROUND_HALF_UP), direct, False)
    inverse = next((rate for rate in rates if (rate.from_currency, rate.to_currency) == (currency, total.currency)),
                   None)
    if inverse:
        return Conversion(total.currency, currency, total.price, (total.price / inverse.rate).quantize(
            CENT, ROUND_HALF_UP), inverse, True)
    return None


def _against(price: Decimal, budget: ClientBudget, conversions: list[Conversion]) -> tuple[str, str]:
    used = "".join(f" (1 {c.rate.from_currency} = {c.rate.rate} {c.rate.to_currency}, {c.rate.as_of}, "
                   f"{c.rate.source})" for c in conversions)
    status, message = _compare(price, budget)
    return status, message + (f" Converted at the agency's rates{used}." if conversions else "")


def _compare(price: Decimal, budget: ClientBudget) -> tuple[str, str]:
    if budget.maximum is not None and price > budget.maximum:
        return "over", f"The price {price} {budget.currency} is {price - budget.maximum} over the budget's " \
                       f"maximum of {budget.maximum}."
    if budget.minimum is not None and price < budget.minimum:
        return "under", f"The price {price} {budget.currency} is {budget.minimum - price} under the budget's " \
                        f"minimum of {budget.minimum}: room for upgrades."
    return "within", f"The price {price} {budget.currency} is within the client's budget."
