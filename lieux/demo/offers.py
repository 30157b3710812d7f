"""What the demo venues sell: billing profiles, plans with their price steps and credits, and who
subscribes to what. Bank details are fabricated: the IBANs and SEPA creditor identifiers pass their
checksums but belong to no account."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BillingSpec:
    prefix: str
    iban: str
    bic: str
    creditor_id: str
    rcs_city: str = ""
    share_capital: str = ""


@dataclass(frozen=True)
class CreditSpec:
    code: str
    name: str
    rates: tuple[tuple[str, str], ...]  # (resource slug, credits per hour)


@dataclass(frozen=True)
class PlanSpec:
    slug: str
    name: str
    kind: str  # membership_fee | subscription | day_pass | pack
    interval: str  # month | year | once
    prices: tuple[
        tuple[int, str, str], ...
    ]  # (months from the start of the demo year, price excl. VAT, label)
    description: str = ""
    vat_rate: str = "20"
    commitment_months: int = 0
    notice_days: int = 0
    proration: str = "none"
    desk_mode: str = "none"
    trial_days: int = 0
    pack_days: int | None = None
    validity_days: int | None = None
    members_only: bool = False
    credits: tuple[tuple[str, str, str, int], ...] = ()  # (credit code, quantity, reset|carry, carry months)


@dataclass(frozen=True)
class SubscriptionSpec:
    venue: str
    plan: str
    person: str
    months_ago: int  # when it started, counted back from the current month
    organisation: str | None = None
    desk: str | None = None


def pass_interlieux(others: str, vat_rate: str = "20") -> PlanSpec:
    """The venue's Pass Interlieux plan, sold by the year (one invoice a year keeps the demo quick to load);
    what it opens elsewhere is set in `interlieux.py`."""
    return PlanSpec(
        "pass-interlieux",
        "Pass Interlieux",
        "subscription",
        "year",
        ((0, "200", ""),),
        f"Pour un an : jusqu'à 8 journées par mois dans chacun des autres lieux du réseau ({others}), du "
        "lundi au vendredi, et 10 % de remise sur leurs salles.",
        vat_rate=vat_rate,
        proration="by_day",
    )


BILLING = {
    "baraka": BillingSpec(
        "BRK", "FR7610278000000000123456718", "CMCIFR2A", "FR68ZZZ5A3B7C", "Roubaix", "12 400 €"
    ),
    "la-coroutine": BillingSpec("COR", "FR7610278000000000234567890", "CMCIFR2A", "FR73ZZZ8D4E2F"),
    "mons-fabrica": BillingSpec("MFB", "FR7610278000000000345678965", "CMCIFR2A", "FR43ZZZ6G1H9J"),
}

CREDITS = {
    "baraka": (
        CreditSpec("heures-salle", "Heures de salle", (("salle-jardin", "1"), ("salle-verriere", "1"))),
    ),
    "la-coroutine": (
        CreditSpec(
            "heures-salle",
            "Heures de salle de réunion",
            (("salle-ada", "1"), ("salle-hopper", "1"), ("bulle-visio", "0.5")),
        ),
    ),
    "mons-fabrica": (
        CreditSpec("heures-machine", "Heures machine", (("decoupeuse-laser", "1"), ("imprimante-3d", "0.5"))),
    ),
}

PLANS = {
    "baraka": (
        PlanSpec(
            "adhesion",
            "Adhésion annuelle",
            "membership_fee",
            "year",
            ((0, "20", ""),),
            "Adhésion à la SCIC comme sociétaire usager·e.",
            members_only=False,
        ),
        PlanSpec(
            "coworking-mensuel",
            "Coworking au mois",
            "subscription",
            "month",
            ((0, "120", "tarif de lancement"), (6, "150", "")),
            "Poste libre du lundi au samedi, café compris, 4 h de salle par mois.",
            commitment_months=3,
            notice_days=30,
            proration="by_day",
            desk_mode="flexible",
            credits=(("heures-salle", "4", "reset", 0),),
        ),
        PlanSpec(
            "carnet-10",
            "Carnet de 10 journées",
            "pack",
            "once",
            ((0, "100", ""),),
            "Dix journées de coworking à utiliser en six mois.",
            pack_days=10,
            validity_days=183,
        ),
        pass_interlieux("La Coroutine et Mons Fabrica"),
    ),
    "la-coroutine": (
        PlanSpec("adhesion", "Adhésion", "membership_fee", "year", ((0, "15", ""),), vat_rate="0"),
        PlanSpec(
            "nomade",
            "Nomade",
            "subscription",
            "month",
            ((0, "90", ""),),
            "Poste nomade tous les jours ouvrés, 10 h de salle de réunion par mois reportables 2 mois.",
            vat_rate="0",
            proration="by_day",
            desk_mode="flexible",
            trial_days=14,
            credits=(("heures-salle", "10", "carry", 2),),
        ),
        PlanSpec(
            "solidaire",
            "Nomade solidaire",
            "subscription",
            "month",
            ((0, "45", ""),),
            "Le même abonnement au tarif solidaire (demandeurs d'emploi, étudiant·es).",
            vat_rate="0",
            proration="by_day",
            desk_mode="flexible",
            credits=(("heures-salle", "5", "carry", 2),),
        ),
        PlanSpec(
            "resident",
            "Résident·e (poste fixe)",
            "subscription",
            "month",
            ((0, "180", ""),),
            "Un poste rien qu'à soi, 12 mois d'engagement, préavis d'un mois.",
            vat_rate="0",
            commitment_months=12,
            notice_days=30,
            proration="by_day",
            desk_mode="fixed",
            credits=(("heures-salle", "10", "carry", 2),),
        ),
        PlanSpec(
            "journee",
            "Pass journée",
            "day_pass",
            "once",
            ((0, "12", ""),),
            vat_rate="0",
            pack_days=1,
            validity_days=1,
        ),
        pass_interlieux("Baraka et Mons Fabrica", vat_rate="0"),
    ),
    "mons-fabrica": (
        PlanSpec(
            "adhesion",
            "Adhésion annuelle",
            "membership_fee",
            "year",
            ((0, "25", ""),),
            "Adhésion à l'association, ouvre les tarifs membres.",
            members_only=True,
        ),
        PlanSpec(
            "maker",
            "Maker au mois",
            "subscription",
            "month",
            ((0, "40", ""),),
            "Accès à l'atelier aux heures d'ouverture et 6 h de machine par mois.",
            proration="none",
            credits=(("heures-machine", "6", "reset", 0),),
        ),
        pass_interlieux("Baraka et La Coroutine"),
    ),
}

SUBSCRIPTIONS = (
    SubscriptionSpec("baraka", "adhesion", "lea@demo.lieux-communs.org", 4),
    SubscriptionSpec("baraka", "coworking-mensuel", "thomas@demo.lieux-communs.org", 3),
    SubscriptionSpec("baraka", "coworking-mensuel", "aurore@demo.lieux-communs.org", 1),
    SubscriptionSpec("la-coroutine", "adhesion", "camille@demo.lieux-communs.org", 6),
    SubscriptionSpec("la-coroutine", "nomade", "camille@demo.lieux-communs.org", 5),
    SubscriptionSpec(
        "la-coroutine", "nomade", "yanis@demo.lieux-communs.org", 2, organisation="Filature Numérique"
    ),
    SubscriptionSpec(
        "la-coroutine", "nomade", "ines@demo.lieux-communs.org", 2, organisation="Filature Numérique"
    ),
    SubscriptionSpec("la-coroutine", "resident", "karim@demo.lieux-communs.org", 1, desk="poste-resident-1"),
    SubscriptionSpec("mons-fabrica", "adhesion", "mehdi@demo.lieux-communs.org", 8),
    SubscriptionSpec("mons-fabrica", "maker", "mehdi@demo.lieux-communs.org", 3),
    SubscriptionSpec("mons-fabrica", "maker", "thomas@demo.lieux-communs.org", 0),
    # The Pass Interlieux (see interlieux.py): on top of a membership or a subscription at home.
    SubscriptionSpec("baraka", "pass-interlieux", "lea@demo.lieux-communs.org", 4),
    SubscriptionSpec("baraka", "pass-interlieux", "thomas@demo.lieux-communs.org", 3),
    SubscriptionSpec("la-coroutine", "pass-interlieux", "camille@demo.lieux-communs.org", 4),
    SubscriptionSpec("la-coroutine", "pass-interlieux", "yanis@demo.lieux-communs.org", 2),
    SubscriptionSpec("mons-fabrica", "pass-interlieux", "mehdi@demo.lieux-communs.org", 3),
)
