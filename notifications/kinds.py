"""Every kind of email, declared once.

A kind is named after its templates (`emails/<name>.subject.txt`, `.txt`, `.html`) and
says whether the customer may switch it off (`switch`, a User field), whether it is a
security notice that always goes out, and which of its template values are secrets (a
code or a link that grants access). The outbox refuses a kind nobody declared and a
call that does not hand over exactly the declared secrets, so a new kind cannot forget
to protect one (see notifications.services.email_queue). Apps declare their own kinds
from their AppConfig.ready(); this module imports no app.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EmailKind:
    name: str
    secrets: frozenset = field(default_factory=frozenset)
    switch: str = ""
    security: bool = False

    def __post_init__(self):
        object.__setattr__(self, "secrets", frozenset(self.secrets))
        if self.security and self.switch:
            raise ValueError(f"Email kind {self.name}: a security notice cannot be switched off")


_KINDS: dict[str, EmailKind] = {}


class UnknownEmailKind(LookupError):
    pass


def email_kinds_declare(*kinds: EmailKind) -> None:
    for kind in kinds:
        if _KINDS.get(kind.name, kind) != kind:
            raise ValueError(f"Email kind {kind.name} is declared twice, differently")
        _KINDS[kind.name] = kind


def email_kind(name: str) -> EmailKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownEmailKind(
            f"Undeclared email kind {name!r}: declare it with email_kinds_declare()") from None


def email_kinds() -> list[EmailKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)
