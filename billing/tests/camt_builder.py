"""Builds ISO 20022 camt.053 statements for tests and the benchmark: never a file from a
bank, always one written here with exactly the entries a test needs."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO
from xml.sax.saxutils import escape

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass
class Credit:
    """One entry; a debit when `credit` is False."""

    amount: Decimal | str
    bank_reference: str
    structured: str = ""  # RmtInf/Strd/CdtrRefInf/Ref
    unstructured: str = ""  # RmtInf/Ustrd
    currency: str = "EUR"
    credit: bool = True
    debtor: str = "Daniel Martín"
    booked_on: str = "2026-03-12"
    status: str = "BOOK"


def entry_xml(entry: Credit) -> str:
    remittance = ""
    if entry.unstructured:
        remittance += f"<Ustrd>{escape(entry.unstructured)}</Ustrd>"
    if entry.structured:
        remittance += (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                       f"<Ref>{escape(entry.structured)}</Ref></CdtrRefInf></Strd>")
    return (
        f"<Ntry><Amt Ccy=\"{escape(entry.currency)}\">{entry.amount}</Amt>"
        f"<CdtDbtInd>{'CRDT' if entry.credit else 'DBIT'}</CdtDbtInd>"
        f"<Sts><Cd>{entry.status}</Cd></Sts>"
        f"<BookgDt><Dt>{entry.booked_on}</Dt></BookgDt><ValDt><Dt>{entry.booked_on}</Dt></ValDt>"
        f"<AcctSvcrRef>{escape(entry.bank_reference)}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        f"</Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f"<Amt Ccy=\"{escape(entry.currency)}\">{entry.amount}</Amt>"
        f"<RltdPties><Dbtr><Pty><Nm>{escape(entry.debtor)}</Nm></Pty></Dbtr></RltdPties>"
        f"<RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def head(message_id: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NAMESPACE}">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>{escape(message_id)}</MsgId>"
        f"<CreDtTm>2026-03-12T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(message_id)}-1</Id><CreDtTm>2026-03-12T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-12</Dt></Dt></Bal>"
    )


TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def statement(entries: Iterable[Credit], message_id: str = "STMT-2026-03-12") -> bytes:
    """A whole camt.053 statement with `entries`, as bytes."""
    return (head(message_id) + "".join(map(entry_xml, entries)) + TAIL).encode()


def write_statement(out: IO[bytes], entries: Iterable[Credit],
                    message_id: str = "STMT-BENCH") -> None:
    """The same, written entry by entry (large statements for the benchmark)."""
    out.write(head(message_id).encode())
    for entry in entries:
        out.write(entry_xml(entry).encode())
    out.write(TAIL.encode())
