"""The contributions pages (projects, declarations, review, budgets, rounds, a person's own) and the public
transparency pages; lieux/web/urls.py takes them in the `web` namespace."""

from django.urls import path

from lieux.web import (
    contribution_views,
    contribution_views_budgets,
    contribution_views_declare,
    contribution_views_mine,
    contribution_views_public,
    contribution_views_review,
    contribution_views_rounds,
    contribution_views_setup,
)

projects = contribution_views
declare = contribution_views_declare
review = contribution_views_review
budgets = contribution_views_budgets
mine = contribution_views_mine
rounds = contribution_views_rounds
public = contribution_views_public
setup = contribution_views_setup

urlpatterns = [
    # Projects and declaring
    path("contributions/", projects.project_list, name="contribution_projects"),
    path("contributions/projets/nouveau/", projects.project_create, name="contribution_project_new"),
    path("contributions/projets/<int:pk>/", projects.project_detail, name="contribution_project"),
    path("contributions/projets/<int:pk>/modifier/", projects.project_edit, name="contribution_project_edit"),
    path("contributions/projets/<int:pk>/declarer/", declare.declare, name="contribution_declare"),
    path(
        "contributions/projets/<int:pk>/declarer-pour/", declare.declare_for, name="contribution_declare_for"
    ),
    path("contributions/projets/<int:pk>/en-lot/", declare.bulk, name="contribution_bulk"),
    # One contribution and its review
    path("contributions/a-examiner/", review.queue, name="contribution_queue"),
    path("contributions/<int:pk>/", review.contribution_detail, name="contribution"),
    path("contributions/<int:pk>/avis/", review.review, name="contribution_review"),
    path("contributions/<int:pk>/retirer/", review.withdraw, name="contribution_withdraw"),
    path("contributions/<int:pk>/piece-jointe/", review.evidence, name="contribution_evidence"),
    path("contributions/<int:pk>/confirmer/", declare.confirm, name="contribution_confirm"),
    # A person's own
    path("contributions/mes-contributions/", mine.my_contributions, name="my_contributions"),
    path("contributions/mes-contributions/export.<str:fmt>", mine.export, name="my_contributions_export"),
    path(
        "contributions/mes-contributions/attestation-<int:year>.pdf",
        mine.certificate,
        name="my_contribution_certificate",
    ),
    path("contributions/consentement/", mine.consent, name="contributor_consent"),
    # Budgets
    path("contributions/budgets/", budgets.budget_list, name="contribution_budgets"),
    path("contributions/budgets/nouveau/", setup.budget_create, name="contribution_budget_new"),
    path("contributions/budgets/<int:pk>/", budgets.budget_detail, name="contribution_budget"),
    path("contributions/budgets/<int:pk>/regles/", setup.budget_edit, name="contribution_budget_edit"),
    path(
        "contributions/budgets/<int:pk>/activites/",
        setup.budget_activities,
        name="contribution_budget_activities",
    ),
    path("contributions/budgets/<int:pk>/sources/", budgets.add_source, name="budget_add_source"),
    path("contributions/budgets/<int:pk>/encaissements/", budgets.add_receipt, name="budget_add_receipt"),
    path("contributions/budgets/<int:pk>/paiements/euros/", budgets.pay_euros, name="budget_pay_euros"),
    path("contributions/budgets/<int:pk>/paiements/credit/", budgets.pay_credit, name="budget_pay_credit"),
    path(
        "contributions/budgets/<int:pk>/credit-lieux/<int:venue_pk>/regler/",
        budgets.settle_credit,
        name="budget_settle_credit",
    ),
    path("contributions/budgets/<int:pk>/retributions.csv", budgets.payouts_csv, name="budget_payouts_csv"),
    path("contributions/budgets/<int:pk>/cloture/", budgets.close, name="budget_close"),
    # The network's set-up: shared activities, credit offered for payouts
    path("contributions/activites/", setup.shared_activities, name="contribution_shared_activities"),
    path("contributions/credit-offert/", setup.credit_offers, name="contribution_credit_offers"),
    path("contributions/credit-offert/<int:pk>/", setup.credit_offer_edit, name="contribution_credit_offer"),
    # Allocation rounds
    path("contributions/tours/", rounds.round_list, name="allocation_rounds"),
    path("contributions/tours/nouveau/", setup.round_create, name="allocation_round_new"),
    path("contributions/tours/<int:pk>/", rounds.round_detail, name="allocation_round"),
    path("contributions/tours/<int:pk>/modifier/", setup.round_edit, name="allocation_round_edit"),
    path("contributions/tours/<int:pk>/projets/", setup.round_projects, name="allocation_round_projects"),
    path("contributions/tours/<int:pk>/repartir/", rounds.allocate, name="allocation_round_allocate"),
    path("contributions/tours/<int:pk>/ouvrir/", rounds.open_round, name="allocation_round_open"),
    path("contributions/tours/<int:pk>/cloturer/", rounds.close_round, name="allocation_round_close"),
    # Public transparency, no login
    path("transparence/<slug:network_slug>/", public.transparency, name="transparency"),
    path(
        "transparence/<slug:network_slug>/projets/<slug:slug>/",
        public.public_project,
        name="transparency_project",
    ),
    path(
        "transparence/<slug:network_slug>/budgets/<slug:slug>/",
        public.public_budget,
        name="transparency_budget",
    ),
]
