"""Secret-token iCalendar feeds, subscribed to from calendar applications.

No login: calendar clients cannot log in, so the unguessable token in the URL is the credential, and
rotating the feed revokes it. An unknown or revoked token gets the same 404 as a page that never existed.
"""

import hashlib

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from lieux.booking.ical import feed_name, live_feed, render_feed


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = live_feed(token)
    if feed is None:
        raise Http404()
    body = render_feed(feed)
    # Unchanged feeds render byte-identical, so the body's digest is a strong validator and a client that
    # polls every few minutes downloads the calendar only when something changed.
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    not_modified = get_conditional_response(request, etag=etag)
    response = not_modified or HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    filename = slugify(feed_name(feed)) or "calendrier"
    response["Content-Disposition"] = f'inline; filename="{filename}.ics"'
    # The URL is a personal secret: browsers may cache the answer, shared caches must not.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
