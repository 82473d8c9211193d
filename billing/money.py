"""Money is `Decimal` throughout, rounded half-up to the cent on each line; an invoice's
totals are sums of its rounded lines."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
CURRENCY = "EUR"


def money(value: Decimal | int | str) -> Decimal:
    """`value` rounded half-up to the cent. Floats are refused: 2.675 as a float is
    really 2.67499999..., which would round the wrong way."""
    if isinstance(value, float):
        raise TypeError("money() takes Decimal, int or str, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amounts(*, unit_price: Decimal | int | str, quantity: int,
                 tax_rate: Decimal | int | str) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, total) of one line, each rounded to the cent; the tax is computed on
    the rounded net amount of this line."""
    net = money(Decimal(unit_price) * quantity)
    tax = money(net * Decimal(tax_rate) / HUNDRED)
    return net, tax, net + tax
