"""What the member portal and the money screens of a venue's team share: finding the venue the viewer
runs, paging long lists, and keeping a list's filters in its page links."""

from typing import cast

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from lieux.accounts.models import User
from lieux.venues.models import Venue
from lieux.web import access, reads

FORM_INVALID = 422


def viewer(request: HttpRequest) -> User:
    """The logged-in person (the views calling this are behind login_required)."""
    return cast(User, request.user)


def staffed_venue(request: HttpRequest, venue_slug: str) -> Venue:
    """A venue the viewer runs. Another venue, existing or not, is a 404: nothing to enumerate."""
    venue = reads.staffed_venue(access.staffed_ids(request), venue_slug)
    if venue is None:
        raise Http404()
    return venue


def page_of(request: HttpRequest, items: QuerySet | list, per_page: int) -> Page:
    """The page asked for by ?page=; a number out of range gives the last page, garbage the first."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for the links to the other pages of a list."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
