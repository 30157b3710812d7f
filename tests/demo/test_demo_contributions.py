"""`lieux demo`: the contributions of the MONSCOBAR network — projects and stewards, two budgets (one in
deficit), some sixty contributions replayed through the services in the order they happened, payouts in
euros and in credit, consent on the public pages, the allocation round open now — loaded again without
change, the same day or weeks later."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from lieux.contributions.models import (
    Account,
    Activity,
    Allocation,
    AllocationRound,
    Budget,
    Contribution,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    FundingReceipt,
    FundingSource,
    LedgerDay,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PersonHours,
    Project,
    Review,
    RoundParticipant,
    RoundProject,
    TransactionKind,
    Verdict,
)
from lieux.contributions.rules import ledger as ledger_rules
from lieux.contributions.selectors.budgets import (
    budget_figures,
    entry_balances,
    ledger_balances,
    person_owed,
)
from lieux.contributions.selectors.projects import is_steward
from lieux.contributions.services import hours
from lieux.contributions.services.rounds import eligible_people
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.demo import contributions as data
from lieux.demo import network
from lieux.demo.load_contributions import as_of, load_contributions
from lieux.memberships.models import CreditLot
from lieux.memberships.services.credits import local_today
from lieux.venues.models import Network, Venue

MODELS = (
    Project,
    Activity,
    Budget,
    FundingSource,
    FundingReceipt,
    Contribution,
    Review,
    ContributorProfile,
    LedgerTransaction,
    LedgerEntry,
    LedgerDay,
    Payout,
    CreditConversion,
    CreditLot,
    AllocationRound,
    RoundProject,
    RoundParticipant,
    Allocation,
    AuditEvent,
)

DEMO_PEOPLE = {network.ADMIN.email, *network.PEOPLE} | {
    person.email for spec in network.VENUES for person in (spec.manager, spec.staff)
}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo loaded once for the module, in a transaction rolled back after its last test: each test
    runs in a savepoint inside it (the `db` fixture), so none sees what another changed."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo, db):
    return demo


def monscobar() -> Network:
    return Network.objects.get(slug=network.NETWORK_SLUG)


def today():
    return min(local_today(venue) for venue in Venue.objects.all())


def test_four_projects_with_stewards_and_the_shared_activities(loaded):
    projects = {p.slug: p for p in Project.objects.filter(network=monscobar()).select_related("venue")}
    assert set(projects) == {data.COMMUNICATION, data.GARDEN, data.LASER, data.REPAIR_CAFE}
    assert projects[data.COMMUNICATION].title == "Communication du réseau"
    assert projects[data.COMMUNICATION].venue is None
    assert {slug: p.venue.slug for slug, p in projects.items() if p.venue} == {
        data.GARDEN: "baraka",
        data.LASER: "mons-fabrica",
        data.REPAIR_CAFE: "la-coroutine",
    }
    assert projects[data.GARDEN].title == "Jardin partagé"
    assert projects[data.LASER].title == "Réparer la découpeuse laser"
    assert projects[data.REPAIR_CAFE].title == "Café-réparation"
    for project in projects.values():
        stewards = {p.email for p in project.stewards.all()}
        assert len(stewards) == 2 and stewards <= DEMO_PEOPLE, project
        assert project.is_public
    shared = Activity.objects.filter(network=monscobar(), budget__isnull=True)
    assert sorted(a.name for a in shared) == sorted(data.ACTIVITIES)
    # Created by the people entitled to, through the service that audits it.
    created = AuditEvent.objects.filter(action="contributions.project.created")
    assert created.count() == 4 and all(event.actor is not None for event in created)


def test_the_network_budget_is_funded_by_the_grant_and_the_workshop_budget_shows_its_deficit(loaded):
    fdt = Budget.objects.get(network=monscobar(), slug=data.NETWORK_BUDGET)
    assert fdt.venue is None and fdt.project is None and fdt.overrun == "refuse"
    assert fdt.name == f"Fabrique de Territoire {fdt.starts_on.year}"
    assert fdt.starts_on < today() < fdt.ends_on
    grant = fdt.sources.get(kind="grant")
    assert grant.amount == Decimal("50000.00") and grant.funder.startswith("ANCT")
    receipts = list(grant.receipts.order_by("received_on"))
    assert [r.amount for r in receipts] == [Decimal("25000.00"), Decimal("15000.00")]
    assert all(r.received_on < today() and r.reference for r in receipts)
    assert fdt.sources.filter(kind="membership_income").exists()
    figures = budget_figures(fdt)
    assert (figures.committed, figures.received) == (Decimal("53000.00"), Decimal("41500.00"))
    assert figures.state == "open" and figures.deficit == 0
    assert (
        figures.paid_euros > 0
        and figures.credit_issued > 0
        and figures.cash == Decimal("41500.00") - (figures.paid_euros)
    )
    assert figures.pending_count >= 4

    atelier = Budget.objects.get(network=monscobar(), slug=data.WORKSHOP_BUDGET)
    assert atelier.venue.slug == "mons-fabrica" and atelier.project.slug == data.LASER
    assert atelier.overrun == "deficit" and atelier.status == "deficit"
    figures = budget_figures(atelier)
    assert figures.granted > figures.committed and figures.deficit == Decimal("160.00")
    assert figures.forecast_over  # the request still pending would deepen it
    # Put in deficit by the validation that passed the envelope, as the review service does it.
    deficit = AuditEvent.objects.get(action="contributions.budget.deficit")
    assert deficit.object_id == str(atelier.pk)

    for budget in (fdt, atelier):
        balances = entry_balances(budget)
        in_days = ledger_balances(budget)
        assert {k: v for k, v in balances.items() if v} == {k: v for k, v in in_days.items() if v}
        assert ledger_rules.inconsistencies(balances, budget_figures(budget)) == []
        # Replayed at their own dates: the burn-down has many steps, none today.
        days = set(
            LedgerDay.objects.filter(
                budget=budget, account=Account.ENVELOPE, kind=TransactionKind.VALIDATION
            ).values_list("day", flat=True)
        )
        assert len(days) >= 5 and max(days) < today()


def test_sixty_contributions_declared_pasted_and_reviewed_in_the_order_they_happened(loaded):
    found = Contribution.objects.filter(project__network=monscobar()).select_related(
        "project", "contributor", "declared_by"
    )
    assert found.count() == len(data.CONTRIBUTIONS) == 60
    statuses = Counter(c.status for c in found)
    assert statuses[ContributionStatus.AWAITING_CONFIRMATION] == 1
    assert statuses[ContributionStatus.REFUSED] == 1
    assert statuses[ContributionStatus.SUBMITTED] == 8
    assert statuses[ContributionStatus.VALIDATED] >= 30 and statuses[ContributionStatus.PAID] >= 10
    assert len({c.kind for c in found}) == 5
    assert {c.contributor.email for c in found} <= DEMO_PEOPLE
    assert len({c.contributor_id for c in found}) >= 9

    pasted = found.filter(source_key__startswith="import:")
    assert pasted.count() == 18
    assert AuditEvent.objects.filter(action="contributions.contribution.imported").count() == 18

    first_day = today() - timedelta(weeks=data.HISTORY_WEEKS + 1)
    assert all(first_day <= c.performed_on < today() for c in found)

    awaiting = found.get(status=ContributionStatus.AWAITING_CONFIRMATION)
    assert awaiting.declared_by != awaiting.contributor and is_steward(awaiting.declared_by, awaiting.project)
    confirmed = AuditEvent.objects.get(action="contributions.contribution.confirmed")
    assert Contribution.objects.get(pk=confirmed.object_id).status == ContributionStatus.VALIDATED

    refusal = Review.objects.get(verdict=Verdict.REFUSE)
    assert refusal.message and refusal.contribution.status == ContributionStatus.REFUSED
    question = Review.objects.get(verdict=Verdict.QUESTION)
    assert question.message and question.contribution.status == ContributionStatus.SUBMITTED

    moment = now()
    for contribution in found.filter(status__in=[ContributionStatus.VALIDATED, ContributionStatus.PAID]):
        validation = contribution.reviews.get(verdict=Verdict.VALIDATE)
        # Nobody validates their own request, and validation comes after the declaration, never now.
        assert validation.reviewer_id not in (contribution.contributor_id, contribution.declared_by_id)
        assert contribution.created_at < validation.created_at <= contribution.validated_at < moment
        assert contribution.created_at.date() >= contribution.performed_on

    line = next(line for line in loaded.splitlines() if line.startswith("Contributions:"))
    assert "4 projects, 2 budgets, 60 contributions (60 new;" in line and "In deficit:" in line
    after = loaded.splitlines()[loaded.splitlines().index(line) + 1]
    assert not after.startswith("  "), "no step of the replay was skipped"


def test_payouts_in_euros_against_invoices_and_one_in_network_credit(loaded):
    fdt = Budget.objects.get(network=monscobar(), slug=data.NETWORK_BUDGET)
    payouts = list(Payout.objects.filter(budget=fdt).select_related("person", "conversion__credit_type"))
    assert Counter(p.method for p in payouts) == {"euros": 3, "credit": 1}
    first_receipt = FundingReceipt.objects.filter(source__budget=fdt).order_by("received_on").first()
    for payout in payouts:
        assert payout.paid_on >= first_receipt.received_on
        assert payout.contributions.exists()
        assert set(payout.contributions.values_list("status", flat=True)) == {ContributionStatus.PAID}
        assert payout.amount <= payout.contributions.aggregate(total=Sum("amount_granted"))["total"]
    euros = [p for p in payouts if p.method == "euros"]
    assert all(p.invoice_reference for p in euros)
    assert {p.paid_to for p in euros if p.person.email == data.YANIS} == {"Filature Numérique"}

    (credit,) = [p for p in payouts if p.method == "credit"]
    assert credit.person.email == data.THOMAS
    assert credit.conversion.credit_type.venue.slug == "mons-fabrica"
    lot = CreditLot.objects.get(pk=credit.credit_lot_id)
    assert lot.person == credit.person and lot.granted == credit.credit_quantity == Decimal("13.50")
    assert credit.amount == credit.credit_quantity * credit.conversion.euros_per_credit
    # Rounded down to a quarter of a credit: the rest stays owed to Thomas.
    assert person_owed(fdt, credit.person_id) == Decimal("2.50")

    conversions = CreditConversion.objects.filter(network=monscobar(), is_active=True)
    assert sorted(c.credit_type.venue.slug for c in conversions) == ["baraka", "la-coroutine", "mons-fabrica"]
    # Each offered by its venue's manager, through the service that audits it.
    offered = AuditEvent.objects.filter(action="contributions.conversion.created").select_related("actor")
    managers = sorted(spec.manager.email for spec in network.VENUES)
    assert sorted(event.actor.email for event in offered) == managers


def test_consent_decides_who_is_named_on_the_public_pages(loaded, client):
    visibility = dict(ContributorProfile.objects.values_list("person__email", "visibility"))
    assert visibility[data.CAMILLE] == "name" and visibility[data.INES] == "hidden"
    assert visibility[data.KARIM] == "pseudonym"
    assert data.AURORE not in visibility  # never asked: counted, not named
    page = client.get(f"/transparence/{network.NETWORK_SLUG}/projets/{data.REPAIR_CAFE}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Karim du café-réparation" in text and "Yanis Benali" in text
    assert "Inès" not in text and "Ouali" not in text, "neither the hidden steward nor Karim's real name"


def test_the_public_pages_hours_tallies_match_the_contributions(loaded):
    scopes = [("project", pk) for pk in Project.objects.values_list("pk", flat=True)]
    scopes += [("budget", pk) for pk in Budget.objects.values_list("pk", flat=True)]
    assert all(hours.stored(*scope) == hours.recount(*scope) for scope in scopes)
    assert PersonHours.objects.exists()


def test_the_allocation_round_is_open_now_with_four_projects_and_some_allocations(loaded):
    found = AllocationRound.objects.get(network=monscobar(), slug=data.ROUND_SLUG)
    assert found.status == "open" and found.opens_at <= now() < found.closes_at
    assert found.name == f"Budget collectif {found.opens_at.year + 1}"
    proposals = RoundProject.objects.filter(round=found)
    assert proposals.count() == 4 and all(p.minimum <= p.maximum for p in proposals)
    participants = list(RoundParticipant.objects.filter(round=found))
    assert sorted(p.person_id for p in participants) == eligible_people(found)
    assert sum(p.share for p in participants) == found.pot
    allocating = [p for p in participants if p.allocations.exists()]
    assert len(allocating) == len(data.ALLOCATIONS)
    for participant in allocating:
        assert participant.allocations.aggregate(total=Sum("amount"))["total"] <= participant.share


def test_loading_again_the_same_day_or_weeks_later_adds_nothing(loaded):
    before = counts()
    venues = {venue.slug: venue for venue in Venue.objects.filter(network=monscobar())}
    report = load_contributions(monscobar(), venues)
    assert counts() == before and report.new == 0 and not report.skipped
    with as_of(now() + timedelta(weeks=5)):
        report = load_contributions(monscobar(), venues)
    assert counts() == before and report.new == 0 and not report.skipped
