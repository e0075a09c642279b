"""Card numbers: checksum, brand, and the test provider's scripted cards.

The test card numbers follow the conventions card processors' sandboxes use, so a tester who
knows one knows the others: any other valid number is a card that pays.
"""

from __future__ import annotations

from csms.payments.provider import DO_NOT_HONOR, EXPIRED_CARD, INSUFFICIENT_FUNDS

# Test cards that always decline authorisations, with the reason they give.
DECLINING_TEST_CARDS = {
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000069": EXPIRED_CARD,
    "4000000000000002": DO_NOT_HONOR,
}
# Cards that pay: 4242424242424242 (Visa), 5555555555554444 (Mastercard), or any valid number.


def digits_of(number: str) -> str:
    """The digits of a card number typed with spaces or dashes."""
    return "".join(ch for ch in number if ch not in " -")


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"
