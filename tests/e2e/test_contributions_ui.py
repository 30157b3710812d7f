"""Contributions in a real browser (Debian's chromium, driven by Playwright) against the live server: a member
pastes three lines, one of them wrong, and the preview flags line 2 and saves nothing; corrected, the lines
are saved; a steward finds one in the review queue and validates it; the budget page draws its burn-down.

Full-page screenshots land in test-artifacts/screenshots/ for people to look at.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from lieux.contributions.models import Contribution, ContributionStatus
from tests import contributions_data as data
from tests.budget_data import fund
from tests.e2e.conftest import TIMEOUT_MS, shoot
from tests.e2e.test_billing_ui import log_in
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
DAY = TODAY - timedelta(days=2)


@pytest.fixture
def garden_scene(transactional_db):
    """La Coroutine's shared garden, looked after by Robin; Camille, a member; a budget funded 1,000 € of
    which 500 € received."""
    network = NetworkFactory()
    venue = VenueFactory(network=network, name="La Coroutine", slug="la-coroutine")
    camille = UserFactory(email="camille@example.org", first_name="Camille", last_name="Martin")
    add_role(camille, venue)
    robin = UserFactory(email="robin@example.org", first_name="Robin", last_name="Lefebvre")
    add_role(robin, venue)
    garden = data.project(network, "jardin", venue=venue, stewards=[robin], title="Jardin partagé")
    data.activities(network, "Communication", "Animation", "Jardin")
    budget = data.budget(
        network,
        "fabrique",
        venue=venue,
        name="Fabrique de Territoire",
        starts_on=TODAY - timedelta(days=90),
        ends_on=TODAY + timedelta(days=270),
    )
    fund(budget, "1000", received="500")
    return {"camille": camille, "robin": robin, "garden": garden, "budget": budget}


def lines(second: str) -> str:
    return "\n".join(
        [
            f"{DAY:%d/%m/%Y} 2h 60€ Communication : newsletter du jardin",
            second,
            f"{DAY:%d/%m/%Y} 1h30 20€ Jardin : désherbage des carrés",
        ]
    )


def test_a_member_pastes_lines_a_steward_validates_and_the_budget_burns_down(
    chromium, live_server, garden_scene
):
    base = live_server.url
    garden, budget = garden_scene["garden"], garden_scene["budget"]

    # Camille pastes three lines; the second has an impossible date.
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, garden_scene["camille"].email)
    page.goto(f"{base}/contributions/projets/{garden.pk}/")
    page.click(f"a[href='/contributions/projets/{garden.pk}/en-lot/']")
    page.fill("#id_content", lines("31/02/2026 1h Animation : atelier semis"))
    page.select_option("#id_budget", str(budget.pk))
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    assert page.locator("tr#line-2.line-bad").count() == 1
    assert "31/02/2026" in page.inner_text("tr#line-2")
    assert page.locator("tr.line-ok").count() == 2
    assert page.locator("button[value=save]").count() == 0
    assert not Contribution.objects.exists()
    shoot(page, "contributions-bulk-preview-flagged.png")

    # Corrected, the preview is clean and the lines are saved.
    page.fill("#id_content", lines(f"{DAY:%d/%m/%Y} 1h Animation : atelier semis"))
    page.click("button[value=preview]")
    page.wait_for_selector("button[value=save]")
    assert page.locator("tr.line-bad").count() == 0
    page.click("button[value=save]")
    page.wait_for_url(f"**/contributions/projets/{garden.pk}/")
    page.wait_for_selector(".message--success")
    assert Contribution.objects.filter(status=ContributionStatus.SUBMITTED).count() == 3
    shoot(page, "contributions-bulk-saved.png")
    context.close()

    # Robin, a steward, finds them in the queue and validates the newsletter.
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base, garden_scene["robin"].email)
    page.goto(f"{base}/contributions/a-examiner/")
    newsletter = Contribution.objects.get(description="newsletter du jardin")
    page.click(f"a[href='/contributions/{newsletter.pk}/']")
    page.wait_for_url(f"**/contributions/{newsletter.pk}/")
    page.fill("#id_message", "Merci pour la newsletter !")
    page.click("button[value=validate]")
    page.wait_for_selector(".message--success")
    newsletter.refresh_from_db()
    assert (newsletter.status, newsletter.amount_granted) == (ContributionStatus.VALIDATED, Decimal("60.00"))
    assert "Merci pour la newsletter" in page.inner_text("ol.thread")
    shoot(page, "contributions-validated.png")

    # The budget page draws its burn-down, with the same figures as a table.
    page.click(f"a[href='/contributions/budgets/{budget.pk}/']")
    page.wait_for_url(f"**/contributions/budgets/{budget.pk}/")
    chart = page.locator("figure#burn-down svg[role=img]")
    assert chart.count() == 1
    assert page.locator("figure#burn-down polyline.line--envelope_left").count() == 1
    assert "60" in page.inner_text("dl.figures")
    assert page.locator("details.chart-data table").count() == 1
    shoot(page, "contributions-budget-burn-down.png")
    context.close()
