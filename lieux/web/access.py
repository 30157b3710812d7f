"""Who the viewer is on the team of, worked out once per request: the layout, the view and its templates
all ask."""

from django.http import HttpRequest

from lieux.venues import selectors as venue_selectors

_ATTRIBUTE = "_lieux_staffed_venue_ids"


def staffed_ids(request: HttpRequest) -> set[int]:
    if not hasattr(request, _ATTRIBUTE):
        setattr(request, _ATTRIBUTE, venue_selectors.staffed_venue_ids(request.user))
    return getattr(request, _ATTRIBUTE)


def runs(request: HttpRequest, venue_id: int) -> bool:
    return venue_id in staffed_ids(request)
