"""The one error services raise when a rule says no, and the one place a view turns it
into a message on its form."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the action. `message` is for the person who asked (translated);
    `field` names the form field it is about, or None for the whole form."""

    def __init__(self, message: str, *, field: str | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


def form_add_domain_error(form, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field when the form has it, else
    above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
