"""The login, sign-up and logout pages in the site's own layout.

allauth ships templates of the same names, and whichever app comes first in INSTALLED_APPS wins. The
fixture puts the web app's templates ahead of every app's, so these tests check the site's templates
whatever that order.
"""

from pathlib import Path

import pytest
from django.urls import reverse

import lieux.web

WEB_TEMPLATES = Path(lieux.web.__file__).parent / "templates"


@pytest.fixture
def site_templates_first(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [WEB_TEMPLATES]}]


def test_the_login_page_has_the_site_layout_and_labelled_fields(client, site_templates_first, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert "web/base.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<label for="id_login"' in html and '<label for="id_password"' in html


def test_logging_in_through_the_form_goes_home(client, site_templates_first, member):
    response = client.post(
        reverse("account_login"), {"login": member.email, "password": "motdepasse-solide"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("web:home")
    assert response.context["user"] == member


def test_a_wrong_password_is_shown_on_the_form(client, site_templates_first, member):
    response = client.post(reverse("account_login"), {"login": member.email, "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_signup_and_logout_pages_share_the_layout(client, site_templates_first, member):
    signup = client.get(reverse("account_signup"))
    assert "web/base.html" in [t.name for t in signup.templates]
    assert '<label for="id_email"' in signup.content.decode()
    client.force_login(member)
    logout = client.get(reverse("account_logout"))
    assert "web/base.html" in [t.name for t in logout.templates]
    client.post(reverse("account_logout"))
    assert not client.get("/").context["user"].is_authenticated
