"""Importing contributions in bulk: a preview that flags each bad line, all lines saved or none, and a
replay that creates nothing twice."""

from datetime import date
from decimal import Decimal

import pytest

from lieux.contributions.errors import ImportEmpty, ImportRejected, ProjectNotFound
from lieux.contributions.errors_budgets import BudgetClosed
from lieux.contributions.models import BudgetStatus, Contribution, ContributionStatus
from lieux.contributions.services import imports
from lieux.contributions.services.imports import import_contributions, preview_import
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.factories import UserFactory

from .declare_data import counts

D = Decimal

GOOD = """\
# février
01/02/2026 2h 60€ Communication, Animation : newsletter de février
03/02/2026 1h30 Jardin : désherbage

05/02/2026 45min : rangement de l'atelier
"""

MIXED = """\
01/02/2026 2h 60€ Communication : newsletter
pas de date ici
03/02/2026 2h Bricolage : étagères
04/02/2026 2,123h : trop précis
05/01/2027 1h : dans le futur
06/02/2026 1h : bien
"""


def test_the_preview_reads_every_line_and_says_what_is_wrong_without_writing(member, garden, budget, shared):
    before = counts()
    preview = preview_import(actor=member, project=garden, budget=budget, content=MIXED)
    assert counts() == before
    assert not preview.ok
    assert [(ln.number, ln.problem.code if ln.problem else None) for ln in preview.lines] == [
        (1, None),
        (2, "missing_date"),
        (3, "unknown_activity"),
        (4, "invalid_hours"),
        (5, "in_future"),
        (6, None),
    ]
    assert preview.lines[2].message == (
        "Bricolage is not an activity of this project's budget or of the network."
    )
    assert preview.errors()[0] == {
        "line": 2,
        "code": "missing_date",
        "detail": "The line must start with a date such as 01/02/2026.",
    }
    good = preview.lines[0]
    assert good.contributor == member and [a.name for a in good.activities] == ["Communication"]
    assert good.row is not None and good.row.amount == D(60)


def test_one_bad_line_and_nothing_is_saved(member, garden, budget, shared):
    before = counts()
    with pytest.raises(ImportRejected) as rejected:
        import_contributions(actor=member, project=garden, budget=budget, content=MIXED)
    assert rejected.value.status == 422
    assert [(e["line"], e["code"]) for e in rejected.value.extra["lines"]] == [
        (2, "missing_date"),
        (3, "unknown_activity"),
        (4, "invalid_hours"),
        (5, "in_future"),
    ]
    assert counts() == before


def test_good_lines_are_saved_together_with_their_activities_and_audit_rows(member, garden, budget, shared):
    result = import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    assert (len(result.created), result.skipped) == (3, 0)
    saved = list(Contribution.objects.order_by("performed_on"))
    assert [(c.performed_on, c.hours, c.amount_asked, c.status) for c in saved] == [
        (date(2026, 2, 1), D("2.00"), D("60.00"), ContributionStatus.SUBMITTED),
        (date(2026, 2, 3), D("1.50"), None, ContributionStatus.SUBMITTED),
        (date(2026, 2, 5), D("0.75"), None, ContributionStatus.SUBMITTED),
    ]
    assert [sorted(a.name for a in c.activities.all()) for c in saved] == [
        ["Animation", "Communication"],
        ["Jardin"],
        [],
    ]
    assert all(c.source_key and c.source_key.startswith("import:") for c in saved)
    events = AuditEvent.objects.filter(action="contributions.contribution.imported")
    assert events.count() == 3
    assert {e.data["import_key"] for e in events} == {result.import_key}
    assert sorted(e.data["line"] for e in events) == [2, 3, 5]


def test_replaying_an_import_creates_nothing_twice(member, garden, budget, shared):
    first = import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    preview = preview_import(actor=member, project=garden, budget=budget, content=GOOD.replace("\n", "\r\n"))
    assert preview.ok and all(ln.already_imported for ln in preview.lines)
    again = import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    assert (len(again.created), again.skipped, again.import_key) == (0, 3, first.import_key)
    assert Contribution.objects.count() == 3
    assert AuditEvent.objects.filter(action="contributions.contribution.imported").count() == 3


def test_a_concurrent_replay_that_saved_first_is_skipped_not_an_error(
    member, garden, budget, shared, monkeypatch
):
    import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    real = imports.existing_keys
    calls = []

    def stale_then_real(keys):
        # The preview and the first write see no earlier run, as when two requests run at once.
        calls.append(len(keys))
        return set() if len(calls) <= 2 else real(keys)

    monkeypatch.setattr(imports, "existing_keys", stale_then_real)
    again = import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    assert (len(again.created), again.skipped) == (0, 3)
    assert len(calls) == 3  # the stale write hit the unique source keys and was replayed
    assert Contribution.objects.count() == 3


def test_a_steward_imports_a_csv_for_others_who_then_confirm(member, steward, garden, budget, shared):
    csv = (
        "date;heures;montant;activités;description;e-mail\n"
        "01/02/2026;2;60;Animation;atelier vélo;membre@example.org\n"
        "02/02/2026;1;;Jardin;arrosage;\n"
    )
    result = import_contributions(actor=steward, project=garden, budget=budget, content=csv, fmt="csv")
    by_day = {c.performed_on.day: c for c in result.created}
    assert (by_day[1].contributor, by_day[1].declared_by, by_day[1].status) == (member, steward, "awaiting")
    assert (by_day[2].contributor, by_day[2].status) == (steward, "submitted")


def test_csv_lines_naming_others_are_refused_for_non_stewards_and_unknown_people_for_stewards(
    member, steward, garden, budget, shared
):
    csv = (
        "date,description,contributor\n01/02/2026,x,soucieux@example.org\n01/02/2026,y,personne@example.org\n"
    )
    by_member = preview_import(actor=member, project=garden, budget=budget, content=csv, fmt="csv")
    assert [ln.problem.code if ln.problem else None for ln in by_member.lines] == [
        "not_steward",
        "not_steward",
    ]
    by_steward = preview_import(actor=steward, project=garden, budget=budget, content=csv, fmt="csv")
    assert [ln.problem.code if ln.problem else None for ln in by_steward.lines] == [None, "unknown_person"]


def test_amounts_need_a_budget_and_dates_its_period(member, network, venue, garden, shared, clock):
    winter = data.budget(network, "hiver", venue=venue, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31))
    text = "01/02/2026 60€ : a\n01/04/2026 1h : b\n"
    without = preview_import(actor=member, project=garden, content=text)
    assert [ln.problem.code if ln.problem else None for ln in without.lines] == ["amount_needs_budget", None]
    within = preview_import(actor=member, project=garden, budget=winter, content=text)
    assert [ln.problem.code if ln.problem else None for ln in within.lines] == [None, "after_budget"]


def test_what_concerns_the_whole_import_is_an_error_of_its_own(
    member, stranger, network, garden, budget, clock
):
    with pytest.raises(ImportEmpty):
        preview_import(actor=member, project=garden, content="\n# rien\n  \n")
    with pytest.raises(ImportEmpty):
        preview_import(actor=member, project=garden, content="date;description\n", fmt="csv")
    with pytest.raises(ProjectNotFound):
        preview_import(actor=stranger, project=data.project(network, "prive", is_public=False), content=GOOD)
    budget.status = BudgetStatus.CLOSED
    budget.save()
    with pytest.raises(BudgetClosed):
        import_contributions(actor=member, project=garden, budget=budget, content=GOOD)


def test_another_person_importing_the_same_text_imports_their_own(member, garden, budget, shared, venue):
    other = UserFactory(email="autre@example.org")
    import_contributions(actor=member, project=garden, budget=budget, content=GOOD)
    theirs = import_contributions(actor=other, project=garden, budget=budget, content=GOOD)
    assert len(theirs.created) == 3
    assert {c.contributor for c in theirs.created} == {other}
