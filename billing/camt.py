"""Reading an ISO 20022 bank statement (camt.053, "BankToCustomerStatement") or debit/credit
notification (camt.054) one entry at a time, in bounded memory.

Why not a library: pycamt (the maintained camt.053 parser on PyPI) builds the whole
document tree with lxml before reading it, so its memory grows with the file; the
standard library's ElementTree.iterparse streams it. defusedxml's iterparse is the same
parser with DTDs and entity declarations refused (no "billion laughs", no external
entity), which a file uploaded from outside calls for. Any version of camt.053/054 is
read: the elements used here have kept their names and places since version 2."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

MAX_AMOUNT = Decimal("9999999999.99")
_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.\d{2}\}Document$")


class StatementError(ValueError):
    """The file is not a statement this reader takes; `message` says why, in English
    (the caller shows its own translated words, by `code`)."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Entry:
    bank_reference: str  # AcctSvcrRef of the entry (else of its transaction), else NtryRef
    amount: Decimal
    currency: str
    credit: bool  # CRDT; False for a debit (DBIT)
    booked: bool  # BOOK status (a pending entry is not money received yet)
    reversal: bool
    booked_on: date | None
    structured_reference: str  # creditor references (RmtInf/Strd/CdtrRefInf/Ref)
    remittance: str  # unstructured remittance lines and additional entry information
    debtor_name: str


class CamtReader:
    """Iterate over `Entry`s of a camt.053/054 file. `kind` ("camt.053" or "camt.054")
    and `message_id` are known once iteration has started."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.kind = ""
        self.message_id = ""

    def __iter__(self) -> Iterator[Entry]:
        stack = []
        ns = ""
        number = 0
        try:
            for event, element in iterparse(self.stream, events=("start", "end"),
                                            forbid_dtd=True):
                if event == "start":
                    if not stack:
                        match = _NAMESPACE.match(element.tag)
                        if not match:
                            raise StatementError("schema", "not an ISO 20022 camt.053 or "
                                                 "camt.054 document")
                        self.kind = match[1]
                        ns = element.tag[: element.tag.index("}") + 1]
                    stack.append(element)
                    continue
                stack.pop()
                tag = element.tag
                if tag == f"{ns}MsgId" and not self.message_id:
                    self.message_id = (element.text or "").strip()[:64]
                elif tag == f"{ns}Ntry":
                    number += 1
                    yield _entry(element, ns, number)
                    # Bounded memory: drop the entry from the tree once read.
                    if stack:
                        stack[-1].remove(element)
                    element.clear()
        except ParseError as error:
            raise StatementError("xml", f"not a well-formed XML file ({error})") from None
        except LookupError as error:  # the XML declaration names an unknown encoding
            raise StatementError("xml", f"not a readable XML file ({error})") from None
        except DefusedXmlException:
            raise StatementError("dtd", "the file declares a DTD or entities") from None


def _qualified(path: str, ns: str) -> str:
    return "/".join(ns + part for part in path.split("/"))


def _text(element, path: str, ns: str) -> str:
    found = element.find(_qualified(path, ns))
    return (found.text or "").strip() if found is not None else ""


def _all_text(element, path: str, ns: str) -> list[str]:
    return [found.text.strip() for found in element.iterfind(_qualified(path, ns))
            if found.text and found.text.strip()]


def _entry(element, ns: str, number: int) -> Entry:
    amount_element = element.find(f"{ns}Amt")
    if amount_element is None:
        raise StatementError("entry", f"entry {number} has no amount", entry=number)
    try:
        amount = Decimal((amount_element.text or "").strip())
    except InvalidOperation:
        raise StatementError("entry", f"entry {number} has an invalid amount",
                             entry=number) from None
    # Past MAX_AMOUNT, quantize() itself fails, and the columns (12 digits) cannot hold it.
    if (not amount.is_finite() or not 0 < amount <= MAX_AMOUNT
            or amount != amount.quantize(Decimal("0.01"))):
        raise StatementError("entry", f"entry {number} has an invalid amount", entry=number)
    indicator = _text(element, "CdtDbtInd", ns)
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError("entry", f"entry {number} is neither credit nor debit",
                             entry=number)
    reference = (_text(element, "AcctSvcrRef", ns)
                 or _text(element, "NtryDtls/TxDtls/Refs/AcctSvcrRef", ns)
                 or _text(element, "NtryRef", ns))
    if not reference:
        raise StatementError("reference", f"entry {number} has no bank reference "
                             "(AcctSvcrRef or NtryRef)", entry=number)
    status = _text(element, "Sts", ns) or _text(element, "Sts/Cd", ns) or "BOOK"
    booked_text = _text(element, "BookgDt/Dt", ns) or _text(element, "BookgDt/DtTm", ns)[:10]
    try:
        booked_on = date.fromisoformat(booked_text) if booked_text else None
    except ValueError:
        raise StatementError("entry", f"entry {number} has an invalid booking date",
                             entry=number) from None
    details = "NtryDtls/TxDtls"
    remittance = (_all_text(element, f"{details}/RmtInf/Ustrd", ns)
                  + _all_text(element, "AddtlNtryInf", ns)
                  + _all_text(element, f"{details}/AddtlTxInf", ns))
    return Entry(
        bank_reference=reference[:64],
        amount=amount,
        currency=amount_element.get("Ccy", ""),
        credit=indicator == "CRDT",
        booked=status == "BOOK",
        reversal=_text(element, "RvslInd", ns).lower() == "true",
        booked_on=booked_on,
        structured_reference=" ".join(
            _all_text(element, f"{details}/RmtInf/Strd/CdtrRefInf/Ref", ns)),
        remittance="\n".join(remittance)[:2000],
        debtor_name=(_text(element, f"{details}/RltdPties/Dbtr/Nm", ns)
                     or _text(element, f"{details}/RltdPties/Dbtr/Pty/Nm", ns))[:140],
    )
