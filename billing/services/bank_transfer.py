"""How to pay an invoice by bank transfer: the seller's account, the amount due, the
structured reference (billing.references) and the EPC QR code ("GiroCode") banking apps
scan to fill the transfer in. Everything is drawn here: nothing leaves the server."""

import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from segno.helpers import make_epc_qr
from stdnum import iban as iban_number

from billing.models import Invoice
from billing.references import formatted, reference_for

# The EPC069-12 standard bounds the beneficiary's name to 70 characters.
EPC_NAME_LENGTH = 70


@dataclass(frozen=True)
class TransferInstructions:
    beneficiary: str
    iban: str  # compact, as the QR code carries it
    bic: str
    amount: Decimal
    currency: str
    reference: str  # compact

    @property
    def iban_display(self) -> str:
        return iban_number.format(self.iban)

    @property
    def reference_display(self) -> str:
        return formatted(self.reference)


def transfer_instructions(*, invoice: Invoice) -> TransferInstructions | None:
    """What to transfer for `invoice`, or None when nothing is due (paid, or a draft)."""
    if not invoice.is_issued or invoice.amount_due <= 0:
        return None
    return TransferInstructions(
        beneficiary=settings.SELLER_NAME, iban=settings.SELLER_IBAN, bic=settings.SELLER_BIC,
        amount=invoice.amount_due, currency=invoice.currency,
        reference=reference_for(invoice.number, invoice.customer_nic_handle),
    )


def epc_qr_svg(*, instructions: TransferInstructions, scale: int = 4) -> str:
    """The EPC QR code of a transfer as an SVG document (no script, no style)."""
    code = make_epc_qr(name=instructions.beneficiary[:EPC_NAME_LENGTH], iban=instructions.iban,
                       amount=instructions.amount, reference=instructions.reference,
                       bic=instructions.bic)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, nl=False,
              svgclass="epc-qr", lineclass=None, title="EPC QR code")
    return out.getvalue().decode()
