"""What the trip costs the agency, what it is sold for, and how that compares with the client's budget.

Plain Python, no I/O. Currencies are never converted: totals are per currency, and the client's budget is
compared only with the total in its own currency (an exchange rate is a business decision, not arithmetic).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
class BudgetSummary:
    markup_percent: Decimal
    totals: list[CurrencyTotal]
    client_budget: ClientBudget | None
    status: str  # within / under / over / no_budget / not_comparable
    message: str
    unpriced_items: list[str]


def summarise(items: list[Item], markup_percent: Decimal, client_budget: ClientBudget | None) -> BudgetSummary:
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
    status, message = _against(totals, client_budget)
    unpriced = [item.id for item in items if item.cost is None and item.kind not in ("free_time",)]
    return BudgetSummary(markup_percent, totals, client_budget, status, message, unpriced)


def _against(totals: list[CurrencyTotal], budget: ClientBudget | None) -> tuple[str, str]:
    if budget is None or (budget.minimum is None and budget.maximum is None):
        return "no_budget", "The client has not given a budget in a consultation."
    matching = [total for total in totals if total.currency == budget.currency]
    others = sorted(total.currency for total in totals if total.currency != budget.currency)
    if others:
        return "not_comparable", (f"Costs in {', '.join(others)} cannot be compared with a budget in "
                                  f"{budget.currency} without an exchange rate.")
    price = matching[0].price if matching else Decimal(0)
    if budget.maximum is not None and price > budget.maximum:
        return "over", f"The price {price} {budget.currency} is {price - budget.maximum} over the budget's " \
                       f"maximum of {budget.maximum}."
    if budget.minimum is not None and price < budget.minimum:
        return "under", f"The price {price} {budget.currency} is {budget.minimum - price} under the budget's " \
                        f"minimum of {budget.minimum}: room for upgrades."
    return "within", f"The price {price} {budget.currency} is within the client's budget."
