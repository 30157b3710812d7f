"""The people a budget owes, in a real browser with JavaScript off: a manager finds a contributor by part of
their name, follows their row's « pay in euros » link and records the payment against an invoice; the
contributor leaves the list. Pages of fifty, the current one marked for assistive technologies.

Full-page screenshots land in test-artifacts/screenshots/ for people to look at.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from lieux.contributions.models import Payout
from lieux.venues.models import Role
from tests import contributions_data as data
from tests.budget_data import fund, validated
from tests.e2e.conftest import TIMEOUT_MS, shoot
from tests.e2e.test_billing_ui import log_in
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()


@pytest.fixture
def owing_budget(transactional_db):
    """A budget of La Coroutine owing 55 people, Camille Martin among them (120 €), with 2,000 € received;
    Sacha manages the venue."""
    network = NetworkFactory()
    venue = VenueFactory(network=network, name="La Coroutine", slug="la-coroutine")
    sacha = UserFactory(email="sacha@example.org", first_name="Sacha", last_name="Roux")
    add_role(sacha, venue, Role.MANAGER)
    data.project(network, "jardin", venue=venue, title="Jardin partagé")
    budget = data.budget(
        network,
        "fabrique",
        venue=venue,
        name="Fabrique de Territoire",
        starts_on=TODAY - timedelta(days=90),
        ends_on=TODAY + timedelta(days=270),
    )
    fund(budget, "10000", received="2000")
    camille = UserFactory(email="camille@example.org", first_name="Camille", last_name="Martin")
    validated(budget, camille, "120")
    for n in range(54):
        validated(budget, UserFactory(first_name=f"Personne{n}", last_name="Dupont"), Decimal(10 + n))
    return {"budget": budget, "sacha": sacha, "camille": camille}


def test_a_manager_finds_a_contributor_and_pays_them_from_their_row(chromium, live_server, owing_budget):
    base = live_server.url
    budget, camille = owing_budget["budget"], owing_budget["camille"]
    context = chromium.new_context(
        viewport={"width": 1366, "height": 900}, locale="fr-FR", java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, owing_budget["sacha"].email)
    page.goto(f"{base}/contributions/budgets/{budget.pk}/")

    owed = page.locator("table:has(th:text('Facture via')) tbody tr")
    assert owed.count() == 50
    assert "Camille Martin" in owed.first.inner_text()  # the most owed first
    assert page.locator("nav.pager a[aria-current=page]").inner_text().endswith("1")
    page.click("nav.pager a[rel=next]")
    assert page.locator("table:has(th:text('Facture via')) tbody tr").count() == 5

    # The search form, labelled, works without JavaScript.
    search = page.locator("label[for=owed-q]")
    assert search.count() == 1
    page.fill("#owed-q", "martin")
    page.press("#owed-q", "Enter")
    page.wait_for_url("**q=martin**")
    rows = page.locator("table:has(th:text('Facture via')) tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").click()
    form = page.locator("form#pay-euros")
    assert "Camille Martin" in form.inner_text() and "120,00" in form.inner_text()
    shoot(page, "contributions-budget-pay-from-row.png")
    form.get_by_label("Numéro de sa facture").fill("FAC-2026-14")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/contributions/budgets/{budget.pk}/")
    payout = Payout.objects.get()
    assert (payout.person, payout.amount, payout.invoice_reference) == (
        camille,
        Decimal("120.00"),
        "FAC-2026-14",
    )
    assert "Camille Martin" not in page.inner_text("table:has(th:text('Facture via'))")
    context.close()
