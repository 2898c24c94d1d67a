"""How a booked service's details read to a supplier or a traveller, the same on pages, e-mails and vouchers."""
from __future__ import annotations

REMEDIES = {"en": {"apology": "Our apology", "credit": "A credit of {amount}", "refund": "A refund of {amount}"},
            "zh-Hans": {"apology": "我们的致歉", "credit": "{amount} 的抵用额度", "refund": "退款 {amount}"}}
REQUIREMENT_KINDS = {"en": {"dietary": "Dietary", "accessibility": "Accessibility", "other": "Other"},
                     "zh-Hans": {"dietary": "饮食", "accessibility": "无障碍", "other": "其他"}}


def place_label(place: dict | None) -> str | None:
    """A place as given: its address, else its coordinates."""
    if not place:
        return None
    return place.get("address") or f"{place.get('lat')}, {place.get('lon')}"


def requirement_label(kind: str, traveller: str | None, text: str, language: str) -> str:
    """One traveller's one need: "Dietary — Ana Silva: vegetarian"."""
    words = REQUIREMENT_KINDS.get(language, REQUIREMENT_KINDS["en"])
    return f"{words.get(kind, kind)} — {f'{traveller}: ' if traveller else ''}{text}"


def remedy_label(remedy: str, amount: str, language: str) -> str:
    """What the agency offers for a complaint, as the client reads it: "A refund of 120.00 EUR"."""
    return REMEDIES.get(language, REMEDIES["en"])[remedy].format(amount=amount)
