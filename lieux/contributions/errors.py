"""Domain errors of projects, declarations, bulk imports and peer review. The API maps them to 4xx JSON
`{"detail", "code"}` through lieux.core.errors; the web pages show their message. Budget, funding and payout
errors are in `errors_budgets`.

Declarations and import lines share one vocabulary: the pure rules report a `Problem` (a code and its
parameters), and `problem_message` words it, so a line of a rejected import and a refused declaration say
the same thing."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError


class ProjectNotFound(NotFound):
    code = "unknown_project"

    def __init__(self) -> None:
        super().__init__(_("No such project."))


class ContributionNotFound(NotFound):
    """Also for a contribution the caller may not see: no enumeration."""

    code = "unknown_contribution"

    def __init__(self) -> None:
        super().__init__(_("No such contribution."))


class NotProjectManager(Forbidden):
    code = "not_project_manager"

    def __init__(self) -> None:
        super().__init__(_("Only the venue's team or the project's stewards may change this project."))


class NotSteward(Forbidden):
    """Declaring for someone else is a steward's job: they vouch for it, and the person confirms."""

    code = "not_steward"

    def __init__(self) -> None:
        super().__init__(_("Only the project's stewards may declare a contribution for someone else."))


class ProjectClosed(Conflict):
    code = "project_archived"

    def __init__(self) -> None:
        super().__init__(_("This project is archived: it takes no more contributions."))


class SlugTaken(Conflict):
    code = "project_slug_taken"

    def __init__(self, slug: str) -> None:
        super().__init__(
            _("The network already has a project named %(slug)s.") % {"slug": slug}, field="slug"
        )


class NotYourContribution(Forbidden):
    code = "not_your_contribution"

    def __init__(self) -> None:
        super().__init__(_("Only the person who contributed may do this."))


class ContributionStateError(Conflict):
    code = "contribution_state"


class DeclarationInvalid(ValidationError):
    """A declaration that breaks a rule of `rules.declarations`; `code` is the rule's."""


# Review ---------------------------------------------------------------------------------------------------


class OwnContribution(Forbidden):
    code = "own_contribution"

    def __init__(self) -> None:
        super().__init__(
            _("You cannot validate or refuse a contribution you made or declared: another person must.")
        )


class NotAValidator(Forbidden):
    code = "not_a_validator"

    def __init__(self) -> None:
        super().__init__(_("The rules of this budget do not let you validate or refuse this contribution."))


class NotAReviewer(NotFound):
    """Someone with no part in the contribution: as if it did not exist."""

    code = "unknown_contribution"

    def __init__(self) -> None:
        super().__init__(_("No such contribution."))


class AlreadyValidated(Conflict):
    code = "already_validated"

    def __init__(self) -> None:
        super().__init__(_("You have already validated this contribution."))


class MessageRequired(ValidationError):
    code = "message_required"

    def __init__(self) -> None:
        super().__init__(_("Write a message: comments, questions and refusals need one."))


class EnvelopeExceeded(Conflict):
    """The budget's envelope is a hard limit and this validation would pass it."""

    code = "envelope_exceeded"

    def __init__(self, asked: Decimal, remaining: Decimal) -> None:
        super().__init__(
            _(
                "Validating %(asked)s € would pass this budget's envelope: only %(remaining)s € are left, "
                "and the budget does not allow a deficit."
            )
            % {"asked": asked, "remaining": remaining},
            asked=str(asked),
            remaining=str(remaining),
        )


# Import -------------------------------------------------------------------------------------------------


class ImportRejected(ValidationError):
    """At least one line is bad: nothing was saved. `lines` lists every bad line: number, code, reason."""

    code = "import_rejected"

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        count = len(lines)
        super().__init__(
            ngettext_lazy(
                "%(count)s line cannot be imported; nothing was saved.",
                "%(count)s lines cannot be imported; nothing was saved.",
                count,
            )
            % {"count": count},
            lines=lines,
        )


class ImportEmpty(ValidationError):
    code = "import_empty"

    def __init__(self) -> None:
        super().__init__(_("There is nothing to import."))


class ImportTooLarge(ValidationError):
    code = "import_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("An import takes at most %(limit)s lines: split it.") % {"limit": limit}, limit=limit
        )


# The rules' problems, worded --------------------------------------------------------------------------------

PROBLEM_MESSAGES: dict[str, Any] = {
    # Reading a line
    "missing_date": _("The line must start with a date such as 01/02/2026."),
    "invalid_date": _("%(value)s is not a date."),
    "invalid_hours": _("%(value)s is not a number of hours (e.g. 2h, 1h30, 1,5h)."),
    "invalid_amount": _("%(value)s is not an amount in euros and cents (e.g. 60€, 60,50 €)."),
    "repeated_hours": _("The hours are given twice."),
    "repeated_amount": _("The amount is given twice."),
    "invalid_characters": _("The text holds control characters."),
    "missing_description": _("Say what was done, after the activities and a colon."),
    "description_too_long": _("The description is longer than %(limit)s characters."),
    "invalid_kind": _("%(value)s is not a kind of contribution."),
    "invalid_link": _("%(value)s is not a web link (http:// or https://)."),
    "invalid_email": _("%(value)s is not an e-mail address."),
    "activity_too_long": _("The activity name %(value)s is too long."),
    "missing_column": _("The header row has no %(column)s column."),
    "unknown_column": _("The header row has an unknown column %(column)s."),
    "repeated_column": _("The header row has the column %(column)s twice."),
    "too_many_cells": _("The row has more cells than the header."),
    "unreadable_csv": _("This row cannot be read as CSV: %(reason)s."),
    # The declaration's rules
    "hours_not_positive": _("The hours must be more than zero."),
    "hours_too_many": _("At most %(limit)s hours in one contribution."),
    "amount_negative": _("The amount asked cannot be negative."),
    "amount_too_large": _("The amount asked is too large."),
    "amount_needs_budget": _("Asking for an amount needs a budget to ask it from."),
    "in_future": _("A contribution is declared once done: %(date)s is in the future."),
    "before_budget": _("This budget covers %(starts_on)s to %(ends_on)s: %(date)s is before it."),
    "after_budget": _("This budget covers %(starts_on)s to %(ends_on)s: %(date)s is after it."),
    "budget_not_for_project": _("This budget does not fund this project."),
    "budget_closed": _("This budget is closed."),
    "unknown_activity": _("%(value)s is not an activity of this project's budget or of the network."),
    "unknown_person": _("No account has the e-mail address %(value)s."),
    "not_steward": _("Only the project's stewards may declare a contribution for someone else."),
    "invalid_evidence": _("The link must be a web address (http:// or https://)."),
}


def problem_message(code: str, params: dict[str, Any] | None = None) -> str:
    template = PROBLEM_MESSAGES.get(code)
    if template is None:  # a rule added without its wording: still say something useful
        return code
    if not params:
        return str(template)
    # Days as the reader writes them (01/02/2026 in French), not ISO.
    shown = {k: date_format(v, "SHORT_DATE_FORMAT") if isinstance(v, date) else v for k, v in params.items()}
    return str(template) % shown


def declaration_invalid(code: str, params: dict[str, Any] | None = None, **extra: Any) -> DeclarationInvalid:
    return DeclarationInvalid(problem_message(code, params), code=code, **extra)
