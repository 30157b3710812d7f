"""Contributions in the demo network, described as plain data: the projects (chantiers) and their stewards,
the network's shared activities, two contributive budgets and their funding, some sixty contributions of the
last twenty weeks with how each was reviewed, the payouts, the credit the network offers, who agreed to be
named on the public pages, and the allocation round open now. `load_contributions.py` replays it through
the contributions services.

Days are given as a week offset before the current one (1 = last week, so every contribution is in the
past whatever the day of the week) and a weekday; the budgets' year starts on the first day of the month
a week before the oldest contribution, so that every request falls within it. A contribution is known by
its project, its contributor and its description, which is why no two descriptions of one person on one
project are alike and none names a date: loading the demo again, the same week or months later, finds
every contribution and adds none. Delays (how long after the work it was declared, how long the review
took) are drawn with a fixed seed.
"""

from dataclasses import dataclass

from lieux.demo.network import FRI, MON, SAT, THU, TUE, WED

SEED = "monscobar-contributions"
SUN = 6

# The weeks of history: contributions are at most this many weeks old.
HISTORY_WEEKS = 20

CLAIRE = "admin@demo.lieux-communs.org"  # coordinates the network, runs its budget
CAMILLE = "camille@demo.lieux-communs.org"
YANIS = "yanis@demo.lieux-communs.org"
INES = "ines@demo.lieux-communs.org"
LEA = "lea@demo.lieux-communs.org"
THOMAS = "thomas@demo.lieux-communs.org"
AURORE = "aurore@demo.lieux-communs.org"
MEHDI = "mehdi@demo.lieux-communs.org"
KARIM = "karim@demo.lieux-communs.org"
NADIA = "gestion@baraka.demo"
SOPHIE = "gestion@la-coroutine.demo"
MALIK = "gestion@mons-fabrica.demo"
ELISE = "accueil@mons-fabrica.demo"

ACTIVITIES = ("Communication", "Animation", "Accueil", "Entretien", "Formation", "Prêt de matériel")


@dataclass(frozen=True)
class ProjectSpec:
    slug: str
    title: str
    venue: str | None  # None: a project of the whole network
    manager: str  # who creates it: a manager of its venue, the network's coordinator otherwise
    stewards: tuple[str, ...]
    description: str


COMMUNICATION = "communication-du-reseau"
GARDEN = "jardin-partage"
LASER = "reparer-la-decoupeuse-laser"
REPAIR_CAFE = "cafe-reparation"

PROJECTS = (
    ProjectSpec(
        COMMUNICATION,
        "Communication du réseau",
        None,
        CLAIRE,
        (CAMILLE, LEA),
        "La lettre mensuelle, les affiches, le site et les réseaux sociaux de MONSCOBAR : faire savoir ce "
        "qui se passe dans les trois lieux, et donner envie d'y contribuer.",
    ),
    ProjectSpec(
        GARDEN,
        "Jardin partagé",
        "baraka",
        NADIA,
        (LEA, AURORE),
        "Les bacs de la cour de Baraka, cultivés avec les voisin·es et l'école du quartier ; les récoltes "
        "partent en cuisine.",
    ),
    ProjectSpec(
        LASER,
        "Réparer la découpeuse laser",
        "mons-fabrica",
        MALIK,
        (MEHDI, ELISE),
        "La découpeuse laser est tombée en panne d'alimentation : diagnostic, pièces, aspiration refaite et "
        "formation des utilisateur·ices avant de la rouvrir à tout le monde.",
    ),
    ProjectSpec(
        REPAIR_CAFE,
        "Café-réparation",
        "la-coroutine",
        SOPHIE,
        (KARIM, INES),
        "Un jeudi soir par mois, on répare ensemble petit électroménager, ordinateurs, vélos et vêtements "
        "plutôt que de les jeter.",
    ),
)


@dataclass(frozen=True)
class ReceiptSpec:
    days: int  # received this many days after the budget starts
    amount: str
    reference: str  # "{year}": the year it was received


@dataclass(frozen=True)
class SourceSpec:
    name: str  # "{year}": the budget's first year
    kind: str  # grant | membership_income | venue_share | other
    funder: str
    amount: str
    days: int  # committed this many days after the budget starts
    receipts: tuple[ReceiptSpec, ...] = ()
    venue: str | None = None


@dataclass(frozen=True)
class BudgetSpec:
    slug: str
    name: str  # "{year}": its first year
    description: str
    venue: str | None
    project: str | None
    manager: str  # who sets it up, funds it and pays from it
    validators: str  # stewards | members | managers
    overrun: str  # refuse | deficit
    hourly_value: str
    sources: tuple[SourceSpec, ...]


NETWORK_BUDGET = "fabrique-de-territoire"
WORKSHOP_BUDGET = "atelier-mons-fabrica"

BUDGETS = (
    BudgetSpec(
        NETWORK_BUDGET,
        "Fabrique de Territoire {year}",
        "La convention Fabrique de Territoire signée avec l'ANCT apporte 150 000 € sur trois ans, soit "
        "50 000 € pour cette première année, auxquels le réseau ajoute une part des adhésions : de quoi "
        "rétribuer les contributions à tous ses projets. L'enveloppe est une limite stricte.",
        None,
        None,
        CLAIRE,
        "stewards",
        "refuse",
        "20.00",
        (
            SourceSpec(
                "Subvention Fabrique de Territoire {year} (année 1 sur 3)",
                "grant",
                "ANCT — Agence nationale de la cohésion territoriale",
                "50000",
                0,
                (
                    ReceiptSpec(20, "25000", "ANCT-FDT-{year}-AVANCE"),
                    ReceiptSpec(95, "15000", "ANCT-FDT-{year}-ACOMPTE-2"),
                ),
            ),
            SourceSpec(
                "Part des adhésions {year}",
                "membership_income",
                "Adhérent·es des trois lieux",
                "3000",
                30,
                (ReceiptSpec(45, "1500", "ADH-{year}-S1"),),
            ),
        ),
    ),
    BudgetSpec(
        WORKSHOP_BUDGET,
        "Atelier Mons Fabrica {year}",
        "Ce que Mons Fabrica met de côté pour rétribuer la réparation de sa découpeuse laser. Les demandes "
        "validées ont dépassé l'enveloppe : le budget est en déficit jusqu'à ce que l'association le "
        "clôture (au prorata, par report ou par abondement).",
        "mons-fabrica",
        LASER,
        MALIK,
        "stewards",
        "deficit",
        "25.00",
        (
            SourceSpec(
                "Part de Mons Fabrica {year}",
                "venue_share",
                "Association Mons Fabrica",
                "800",
                0,
                (ReceiptSpec(10, "800", "MFB-{year}-LASER"),),
                venue="mons-fabrica",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class ContributionSpec:
    """One contribution and what became of it. `batch`: pasted with the other lines of the same batch, by
    the contributor, after the last of them; otherwise declared on its own. `declared_by`: a steward
    declaring it for the person, who confirms it (`confirmed`) or has not yet. `reviewer`: the person who
    gives the `verdict` (validate, refuse or question); None leaves it awaiting review."""

    project: str
    person: str
    week: int  # weeks before the current one
    weekday: int
    description: str
    hours: str | None = None
    amount: str | None = None
    activities: tuple[str, ...] = ()
    kind: str = "time"  # time | skill | knowledge | lending | mutual_aid
    budget: str | None = None
    link: str = ""
    batch: str = ""
    declared_by: str | None = None
    confirmed: bool = True
    reviewer: str | None = None
    verdict: str = "validate"
    message: str = ""


_c = ContributionSpec  # short, for the long table below


CAMILLE_LINES = "camille-communication"
LEA_LINES = "lea-jardin"
FDT = NETWORK_BUDGET
ATELIER = WORKSHOP_BUDGET

CONTRIBUTIONS = (
    # Communication du réseau: Camille pastes three months of work in one go; Léa validates it.
    *(
        _c(
            COMMUNICATION,
            CAMILLE,
            week,
            day,
            text,
            hours,
            amount,
            activities,
            budget=FDT,
            batch=CAMILLE_LINES,
            reviewer=LEA,
        )
        for week, day, hours, amount, activities, text in (
            (19, MON, "3", "90", ("Communication",), "Lettre de rentrée : l'agenda des trois lieux"),
            (17, WED, "2", "60", ("Communication",), "Affiche du forum des associations"),
            (15, MON, "3", "90", ("Communication",), "Lettre du réseau : portrait de Mons Fabrica"),
            (
                14,
                THU,
                "1.5",
                "45",
                ("Communication", "Animation"),
                "Visuels pour le ciné-débat « Les communs »",
            ),
            (12, TUE, "4", "120", ("Communication",), "Refonte de la page du réseau sur le site"),
            (11, MON, "3", "90", ("Communication",), "Lettre du réseau : le café-réparation a un an"),
            (9, FRI, "2", "60", ("Communication",), "Gabarits d'affiches pour les trois lieux"),
            (7, MON, "3", "90", ("Communication",), "Lettre du réseau : appel aux bénévoles"),
        )
    ),
    _c(
        COMMUNICATION,
        CAMILLE,
        3,
        MON,
        "Lettre du réseau : les ateliers de la saison",
        "3",
        "90",
        ("Communication",),
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        COMMUNICATION,
        CAMILLE,
        1,
        WED,
        "Affiches du Budget collectif",
        "2",
        "60",
        ("Communication",),
        budget=FDT,
    ),
    _c(
        COMMUNICATION,
        LEA,
        16,
        SAT,
        "Stand MONSCOBAR à la fête de quartier de l'Épeule",
        "4",
        None,
        ("Animation", "Communication"),
        reviewer=CAMILLE,
    ),
    _c(
        COMMUNICATION,
        LEA,
        8,
        THU,
        "Relecture et envoi de la lettre aux 1 200 abonné·es",
        "3",
        "90",
        ("Communication",),
        budget=FDT,
        reviewer=CAMILLE,
    ),
    _c(
        COMMUNICATION,
        LEA,
        2,
        MON,
        "Lettre du réseau : rendez-vous du Budget collectif",
        "3",
        "90",
        ("Communication",),
        budget=FDT,
    ),
    _c(
        COMMUNICATION,
        YANIS,
        13,
        TUE,
        "Agenda partagé des trois lieux sur le site",
        "6",
        "240",
        ("Communication",),
        budget=FDT,
        link="https://monscobar.example.org/agenda",
        reviewer=CAMILLE,
    ),
    _c(
        COMMUNICATION,
        YANIS,
        6,
        TUE,
        "Formulaire d'inscription aux ateliers en ligne",
        "4",
        "160",
        ("Communication",),
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        COMMUNICATION,
        YANIS,
        2,
        THU,
        "Statistiques de fréquentation du site pour le bilan",
        "3",
        "120",
        ("Communication",),
        budget=FDT,
        reviewer=CAMILLE,
        verdict="question",
        message="Peux-tu joindre le lien vers le tableau de bord ? Le bilan pour l'ANCT en aura besoin.",
    ),
    _c(
        COMMUNICATION,
        INES,
        10,
        WED,
        "Reportage photo de la journée portes ouvertes",
        "2",
        "60",
        ("Communication",),
        budget=FDT,
        reviewer=CAMILLE,
    ),
    _c(
        COMMUNICATION,
        INES,
        5,
        FRI,
        "Vidéo de présentation du réseau",
        "5",
        "200",
        ("Communication",),
        kind="skill",
        budget=FDT,
        reviewer=LEA,
        verdict="refuse",
        message="La vidéo est déjà financée par la subvention de la Métropole : elle ne peut pas être "
        "rétribuée une seconde fois sur ce budget. Merci quand même, elle est superbe !",
    ),
    _c(
        COMMUNICATION,
        INES,
        3,
        TUE,
        "Sous-titres de la vidéo du café-réparation",
        "1.5",
        "45",
        ("Communication",),
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        COMMUNICATION,
        MEHDI,
        12,
        MON,
        "Article sur la réparation de la laser pour la lettre",
        "1",
        None,
        ("Communication",),
        reviewer=CAMILLE,
    ),
    _c(
        COMMUNICATION,
        KARIM,
        4,
        WED,
        "Page « Café-réparation » sur le site du réseau",
        "2",
        "60",
        ("Communication",),
        budget=FDT,
        reviewer=CAMILLE,
    ),
    # Jardin partagé: Léa pastes the garden's hours (they ask nothing); Aurore validates them.
    *(
        _c(GARDEN, LEA, week, day, text, hours, None, activities, batch=LEA_LINES, reviewer=AURORE)
        for week, day, hours, activities, text in (
            (20, SAT, "3", ("Entretien",), "Préparation des bacs et apport de compost"),
            (19, SAT, "4", ("Entretien", "Animation"), "Montage de la serre-tunnel avec les voisin·es"),
            (18, WED, "1", ("Entretien",), "Arrosage et désherbage des bacs 1 à 4"),
            (17, WED, "2", ("Animation", "Formation"), "Atelier semis avec l'école Jules-Guesde"),
            (15, FRI, "1.5", ("Entretien",), "Récolte et pesée pour la cuisine du restaurant"),
            (14, SAT, "2", ("Entretien",), "Réparation du récupérateur d'eau de pluie"),
            (12, SAT, "2", ("Accueil",), "Accueil des nouveaux jardinier·es"),
            (10, SAT, "3", ("Entretien",), "Taille des petits fruits et paillage"),
            (8, WED, "1", ("Entretien",), "Inventaire des outils du cabanon"),
            (6, SAT, "3", ("Animation",), "Plantation de bulbes avec le centre social"),
        )
    ),
    _c(
        GARDEN,
        LEA,
        5,
        SAT,
        "Visite du jardin pour les habitant·es du quartier",
        "2",
        None,
        ("Accueil",),
        reviewer=AURORE,
    ),
    _c(
        GARDEN,
        AURORE,
        13,
        THU,
        "Atelier cuisine des légumes du jardin",
        "2",
        "60",
        ("Formation", "Animation"),
        kind="knowledge",
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        GARDEN,
        AURORE,
        9,
        MON,
        "Atelier conserves et lacto-fermentation des récoltes",
        "3",
        "90",
        ("Formation",),
        kind="knowledge",
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        GARDEN,
        AURORE,
        4,
        SAT,
        "Grand nettoyage du cabanon et tri des graines",
        "3",
        None,
        ("Entretien",),
        reviewer=LEA,
    ),
    _c(GARDEN, AURORE, 1, SAT, "Désherbage et paillage des allées", "2", None, ("Entretien",)),
    _c(
        GARDEN,
        THOMAS,
        11,
        SAT,
        "Fabrication de deux bacs surélevés en bois de palette",
        "6",
        "180",
        ("Entretien",),
        kind="skill",
        budget=FDT,
        reviewer=LEA,
    ),
    _c(
        GARDEN,
        THOMAS,
        3,
        SAT,
        "Prêt de sa remorque pour aller chercher le compost",
        None,
        "25",
        ("Prêt de matériel",),
        kind="lending",
        budget=FDT,
        reviewer=AURORE,
    ),
    # Declared by a steward for someone else: Yanis has not confirmed it yet.
    _c(
        GARDEN,
        YANIS,
        1,
        SAT,
        "Prêt de sa perceuse-visseuse pour la serre",
        None,
        None,
        ("Prêt de matériel",),
        kind="lending",
        declared_by=LEA,
        confirmed=False,
    ),
    # Café-réparation, a Thursday evening every month at La Coroutine.
    _c(
        REPAIR_CAFE,
        KARIM,
        18,
        THU,
        "Animation du café-réparation : 14 objets réparés",
        "3",
        "90",
        ("Animation",),
        budget=FDT,
        reviewer=INES,
    ),
    _c(
        REPAIR_CAFE,
        MEHDI,
        18,
        THU,
        "Réparation de petit électroménager au café-réparation",
        "3",
        None,
        ("Animation",),
        kind="skill",
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        YANIS,
        18,
        THU,
        "Réparation de deux liseuses et d'une console",
        "3",
        None,
        ("Animation",),
        kind="skill",
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        INES,
        14,
        THU,
        "Accueil et fiches de suivi des objets",
        "3",
        "60",
        ("Accueil",),
        budget=FDT,
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        KARIM,
        14,
        THU,
        "Diagnostic des ordinateurs portables apportés",
        "3",
        "90",
        ("Animation",),
        kind="skill",
        budget=FDT,
        reviewer=INES,
    ),
    _c(
        REPAIR_CAFE,
        THOMAS,
        14,
        THU,
        "Prêt de sa caisse à outils d'électricien",
        None,
        None,
        ("Prêt de matériel",),
        kind="lending",
        reviewer=KARIM,
    ),
    # Declared by Karim for Camille, who confirmed it; Inès validated it.
    _c(
        REPAIR_CAFE,
        CAMILLE,
        10,
        THU,
        "Accueil des visiteurs et tenue du registre",
        "3",
        None,
        ("Accueil",),
        declared_by=KARIM,
        reviewer=INES,
    ),
    _c(
        REPAIR_CAFE,
        KARIM,
        10,
        THU,
        "Atelier « soudure à l'étain » pour débutant·es",
        "4",
        "120",
        ("Formation",),
        kind="knowledge",
        budget=FDT,
        reviewer=INES,
    ),
    _c(
        REPAIR_CAFE,
        YANIS,
        10,
        THU,
        "Récupération des données d'un téléphone noyé",
        "2",
        None,
        ("Animation",),
        kind="mutual_aid",
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        INES,
        6,
        THU,
        "Table d'accueil et café des réparateur·ices",
        "3",
        "60",
        ("Accueil",),
        budget=FDT,
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        MEHDI,
        6,
        THU,
        "Réparation de trois grille-pain et d'une cafetière",
        "3",
        None,
        ("Animation",),
        kind="skill",
        reviewer=KARIM,
    ),
    _c(
        REPAIR_CAFE,
        KARIM,
        2,
        THU,
        "Animation du café-réparation spécial vélos",
        "3",
        "90",
        ("Animation",),
        budget=FDT,
    ),
    _c(
        REPAIR_CAFE,
        INES,
        2,
        THU,
        "Accueil et inscriptions de l'édition vélos",
        "2",
        "40",
        ("Accueil",),
        budget=FDT,
    ),
    _c(
        REPAIR_CAFE,
        THOMAS,
        2,
        THU,
        "Prêt de son pied d'atelier vélo",
        None,
        None,
        ("Prêt de matériel",),
        kind="lending",
    ),
    # Réparer la découpeuse laser, on Mons Fabrica's own budget: its 800 € are passed by the fifth
    # validation, which puts the budget in deficit.
    _c(
        LASER,
        MEHDI,
        16,
        WED,
        "Diagnostic de la panne : alimentation haute tension hors service",
        "4",
        "160",
        ("Entretien",),
        kind="skill",
        budget=ATELIER,
        reviewer=ELISE,
    ),
    _c(
        LASER,
        KARIM,
        15,
        SAT,
        "Remplacement de l'alimentation haute tension et essais",
        "5",
        "200",
        ("Entretien",),
        kind="skill",
        budget=ATELIER,
        reviewer=MEHDI,
    ),
    _c(
        LASER,
        THOMAS,
        13,
        WED,
        "Nouveau caisson d'aspiration en contreplaqué",
        "8",
        "320",
        ("Entretien",),
        kind="skill",
        budget=ATELIER,
        reviewer=MEHDI,
    ),
    _c(
        LASER,
        MEHDI,
        12,
        FRI,
        "Alignement des miroirs et réglage de la focale",
        "3",
        "120",
        ("Entretien",),
        kind="skill",
        budget=ATELIER,
        reviewer=ELISE,
    ),
    _c(
        LASER,
        ELISE,
        11,
        TUE,
        "Fiche de sécurité et formation des premiers utilisateurs",
        "3",
        "120",
        ("Formation",),
        kind="knowledge",
        budget=ATELIER,
        reviewer=MEHDI,
    ),
    _c(
        LASER,
        MEHDI,
        9,
        SUN,
        "Prêt de sa lentille de rechange pendant trois semaines",
        None,
        "40",
        ("Prêt de matériel",),
        kind="lending",
        budget=ATELIER,
        reviewer=ELISE,
    ),
    _c(
        LASER,
        KARIM,
        3,
        TUE,
        "Mise à jour du micrologiciel du contrôleur",
        "2",
        "80",
        ("Entretien",),
        kind="skill",
        budget=ATELIER,
    ),
)


@dataclass(frozen=True)
class PayoutSpec:
    """Everything `person` is owed by the budget that day, in euros against an invoice (`invoice`, of the
    structure they bill through when `to_structure`), or in the credit of `credit_venue`, which the person
    chose."""

    budget: str
    person: str
    week: int
    weekday: int
    invoice: str = ""  # "{year}": the year it was paid
    to_structure: bool = False
    credit_venue: str | None = None


PAYOUTS = (
    PayoutSpec(NETWORK_BUDGET, CAMILLE, 5, MON, invoice="CL-{year}-031"),
    PayoutSpec(NETWORK_BUDGET, YANIS, 4, TUE, invoice="FN-{year}-0142", to_structure=True),
    PayoutSpec(NETWORK_BUDGET, KARIM, 3, WED, invoice="KO-{year}-007"),
    PayoutSpec(NETWORK_BUDGET, THOMAS, 1, TUE, credit_venue="mons-fabrica"),
)


@dataclass(frozen=True)
class ConversionSpec:
    """What a euro owed buys in a venue's booking credit (see `offers.CREDITS`), about the members' price of
    an hour of what the credit books. Offered by the venue's manager: the venue honours it."""

    venue: str
    credit_type: str
    euros_per_credit: str
    manager: str
    validity_months: int = 12


CONVERSIONS = (
    ConversionSpec("baraka", "heures-salle", "20", NADIA),
    ConversionSpec("la-coroutine", "heures-salle", "12", SOPHIE),
    ConversionSpec("mons-fabrica", "heures-machine", "15", MALIK),
)


@dataclass(frozen=True)
class ProfileSpec:
    person: str
    visibility: str  # name | pseudonym | hidden
    pseudonym: str = ""
    structure: str = ""


# Nobody else has said how they want to appear: they are counted on the public pages, never named.
PROFILES = (
    ProfileSpec(CAMILLE, "name"),
    ProfileSpec(LEA, "name"),
    ProfileSpec(THOMAS, "name"),
    ProfileSpec(YANIS, "name", structure="Filature Numérique"),
    ProfileSpec(KARIM, "pseudonym", "Karim du café-réparation"),
    ProfileSpec(MEHDI, "pseudonym", "Mehdi H."),
    ProfileSpec(INES, "hidden"),
)

# The allocation round open now: the members share a pot between the four projects for next year.
ROUND_SLUG = "budget-collectif"
ROUND_NAME = "Budget collectif {year}"  # next year
ROUND_DESCRIPTION = (
    "Chaque personne du réseau reçoit une part égale de la cagnotte et la répartit entre les projets "
    "proposés pour l'an prochain. Un projet qui n'atteint pas son minimum n'est pas financé ; au-delà de son "
    "maximum, l'argent reste dans la cagnotte."
)
ROUND_POT = "6000"
ROUND_FUNDER = "Part des adhésions des trois lieux"
ROUND_PREPARED_DAYS_AGO = 12
ROUND_OPENED_DAYS_AGO = 5
ROUND_CLOSES_IN_DAYS = 16
ROUND_PROJECTS = (  # (project, minimum, maximum)
    (COMMUNICATION, "1000", "2500"),
    (GARDEN, "500", "1500"),
    (LASER, "800", "2000"),
    (REPAIR_CAFE, "400", "1200"),
)
# (person, days after the opening, {project: euros}); everyone's share is a little over 400 €.
ALLOCATIONS = (
    (CAMILLE, 0, {COMMUNICATION: "250", REPAIR_CAFE: "100"}),
    (LEA, 0, {GARDEN: "200", COMMUNICATION: "150"}),
    (THOMAS, 1, {LASER: "200", GARDEN: "150"}),
    (MEHDI, 1, {LASER: "300", REPAIR_CAFE: "50"}),
    (KARIM, 2, {REPAIR_CAFE: "200", LASER: "100", COMMUNICATION: "50"}),
    (YANIS, 3, {COMMUNICATION: "200", REPAIR_CAFE: "100"}),
    (NADIA, 3, {GARDEN: "250", COMMUNICATION: "100"}),
)
