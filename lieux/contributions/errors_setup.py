"""Domain errors of setting contributions up: the credit offered for payouts, rounds in preparation and
activities. The API maps them to 4xx JSON through lieux.core.errors; the web pages show their message."""

from django.utils.translation import gettext_lazy as _

from lieux.core.errors import Conflict, Forbidden


class RoundNotInPreparation(Conflict):
    code = "round_not_draft"

    def __init__(self) -> None:
        super().__init__(_("This round is no longer in preparation: its settings and projects are fixed."))


class NotVenueManager(Forbidden):
    """Offering a venue's credit commits that venue: its managers (or the network's admins) decide."""

    code = "not_venue_manager"

    def __init__(self, venue_name: str) -> None:
        super().__init__(_("Only the managers of %(venue)s may offer its credit.") % {"venue": venue_name})


class CreditAlreadyOffered(Conflict):
    code = "credit_already_offered"

    def __init__(self) -> None:
        super().__init__(
            _("The network already offers this credit: change its rate instead."), field="credit_type"
        )


class ActivityNameTaken(Conflict):
    code = "activity_name_taken"

    def __init__(self, name: str) -> None:
        super().__init__(_("There is already an activity named %(name)s.") % {"name": name}, field="name")


class ActivityInUse(Conflict):
    code = "activity_in_use"

    def __init__(self, name: str) -> None:
        super().__init__(
            _("Contributions are filed under %(name)s: rename it rather than remove it.") % {"name": name}
        )
