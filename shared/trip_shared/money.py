"""Money as agencies handle it: an exact decimal with at most two places, and its ISO 4217 currency."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from trip_shared.errors import DomainError


class InvalidMoney(DomainError):
    code = "invalid-money"


@dataclass(frozen=True)
class Money:
    amount: str  # a decimal in text, exact: "1250.00"
    currency: str

    @classmethod
    def of(cls, amount, currency: str, what: str = "price") -> Money:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            raise InvalidMoney(f"{what}.amount {amount!r} is not a number.") from None
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
            raise InvalidMoney(f"{what}.amount must be zero or more, with at most two decimals.")
        currency = (currency or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise InvalidMoney(f"{what}.currency {currency!r} is not an ISO 4217 code such as EUR.")
        return cls(str(value.quantize(Decimal("0.01"))), currency)
