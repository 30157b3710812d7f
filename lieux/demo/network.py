"""The demo network MONSCOBAR, described as plain data: venues, resources, people and a few weeks of
bookings. `load.py` turns it into rows through the same services as the real platform.

Everything here is made up. SIRET and SIREN numbers are fabricated so that they pass the Luhn check;
phone numbers come from the ranges ARCEP keeps for fiction (03 53 01 xx xx, 06 39 98 xx xx). Booking
times are given as a week offset from the current week (0), a weekday (0 = Monday) and wall times, so
the demo always shows the past two weeks and the next three around the day it is loaded.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.easter import easter

NETWORK_SLUG = "monscobar"
NETWORK_NAME = "MONSCOBAR"
PASSWORD = "demo-lieux-communs"

# Weekdays, as Python numbers them.
MON, TUE, WED, THU, FRI, SAT = range(6)


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str
    phone: str = ""
    about: str = ""  # shown only in the logins table


@dataclass(frozen=True)
class Price:
    unit: str  # hour | half_day | day
    member: str  # excl. VAT, euros
    public: str


@dataclass(frozen=True)
class ResourceSpec:
    slug: str
    name: str
    kind: str  # room | desk | equipment
    capacity: int
    description: str
    tags: tuple[str, ...] = ()
    parent: str | None = None
    prices: tuple[Price, ...] = ()
    # Booking rules, as Resource field names: granularity_minutes, min_duration, buffer_after…
    rules: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Slot:
    """One booking, repeated on each of `weeks` (0 = this week, -1 = last week…). `then` is what
    happens to it afterwards: "cancel" (by the venue's staff) or "approve" (a request the manager
    accepts)."""

    resource: str
    person: str
    weekday: int
    start: str
    end: str
    title: str
    weeks: tuple[int, ...] = (0,)
    notes: str = ""
    organisation: str | None = None
    then: str | None = None


@dataclass(frozen=True)
class SeriesSpec:
    """A weekly recurring booking from week `first_week` to `last_week` included."""

    resource: str
    person: str
    weekday: int
    start: str
    end: str
    title: str
    first_week: int
    last_week: int
    organisation: str | None = None


@dataclass(frozen=True)
class VenueSpec:
    slug: str
    name: str
    description: str
    legal_name: str
    legal_form: str
    siret: str
    vat_status: str
    vat_number: str
    street: str
    postcode: str
    city: str
    latitude: str
    longitude: str
    phone: str
    email: str
    hours: tuple[tuple[int, str, str], ...]  # (weekday, opens, closes); two rows for a lunch break
    summer_break: tuple[tuple[int, int], tuple[int, int]] | None  # ((month, day), (month, day))
    manager: Person
    staff: Person
    members: tuple[str, ...]  # e-mails of PEOPLE
    resources: tuple[ResourceSpec, ...]
    slots: tuple[Slot, ...] = ()
    series: tuple[SeriesSpec, ...] = ()


@dataclass(frozen=True)
class OrganisationSpec:
    name: str
    siren: str
    vat_number: str
    billing_email: str
    address: str
    members: tuple[str, ...]


def french_public_holidays(year: int) -> list[tuple[date, str]]:
    """Jours fériés of metropolitan France (Alsace-Moselle has two more; the network is in the Nord)."""
    easter_sunday = easter(year)
    return [
        (date(year, 1, 1), "Jour de l'an"),
        (easter_sunday + timedelta(days=1), "Lundi de Pâques"),
        (date(year, 5, 1), "Fête du Travail"),
        (date(year, 5, 8), "Victoire 1945"),
        (easter_sunday + timedelta(days=39), "Ascension"),
        (easter_sunday + timedelta(days=50), "Lundi de Pentecôte"),
        (date(year, 7, 14), "Fête nationale"),
        (date(year, 8, 15), "Assomption"),
        (date(year, 11, 1), "Toussaint"),
        (date(year, 11, 11), "Armistice 1918"),
        (date(year, 12, 25), "Noël"),
    ]


ADMIN = Person(
    "admin@demo.lieux-communs.org",
    "Claire",
    "Descamps",
    "06 39 98 10 01",
    "coordination du réseau MONSCOBAR (superuser, admin Django)",
)

PEOPLE = {
    p.email: p
    for p in (
        Person(
            "camille@demo.lieux-communs.org",
            "Camille",
            "Lefebvre",
            "06 39 98 20 01",
            "graphiste indépendante",
        ),
        Person("yanis@demo.lieux-communs.org", "Yanis", "Benali", "06 39 98 20 02", "Filature Numérique"),
        Person("ines@demo.lieux-communs.org", "Inès", "Martin", "06 39 98 20 03", "Filature Numérique"),
        Person("lea@demo.lieux-communs.org", "Léa", "Dubois", "06 39 98 20 04", "association de quartier"),
        Person("thomas@demo.lieux-communs.org", "Thomas", "Vandenbroucke", "06 39 98 20 05", "menuisier"),
        Person("aurore@demo.lieux-communs.org", "Aurore", "Delattre", "06 39 98 20 06", "formatrice cuisine"),
        Person("mehdi@demo.lieux-communs.org", "Mehdi", "Haddad", "06 39 98 20 07", "maker"),
        Person("karim@demo.lieux-communs.org", "Karim", "Ouali", "06 39 98 20 08", "développeur"),
    )
}

FILATURE = "Filature Numérique"

ORGANISATIONS = (
    OrganisationSpec(
        name=FILATURE,
        siren="903582278",
        vat_number="FR75903582278",
        billing_email="compta@filature-numerique.demo",
        address="27 rue de Fives\n59800 Lille",
        members=("yanis@demo.lieux-communs.org", "ines@demo.lieux-communs.org"),
    ),
)

MEETING_ROOM_RULES = {"granularity_minutes": 30, "min_duration": timedelta(hours=1)}
DESK_RULES = {
    "granularity_minutes": 30,
    "min_duration": timedelta(hours=2),
    "bookable_by": "members",
}

BARAKA = VenueSpec(
    slug="baraka",
    name="Baraka",
    description=(
        "Restaurant coopératif et tiers-lieu de l'Épeule, à Roubaix : cuisine de saison et locale le midi, "
        "salles à louer pour les associations et les entreprises du quartier, une cuisine pédagogique et "
        "quelques postes de coworking."
    ),
    legal_name="SCIC Baraka",
    legal_form="SCIC SA à capital variable",
    siret="81734562200010",
    vat_status="liable",  # a restaurant and room rentals to businesses: taxable activities
    vat_number="FR68817345622",
    street="11 rue de Mulhouse",
    postcode="59100",
    city="Roubaix",
    latitude="50.688420",
    longitude="3.168960",
    phone="03 53 01 10 10",
    email="contact@baraka.demo",
    hours=(
        (MON, "08:30", "22:00"),
        (TUE, "08:30", "22:00"),
        (WED, "08:30", "22:00"),
        (THU, "08:30", "22:00"),
        (FRI, "08:30", "22:00"),
        (SAT, "09:30", "14:00"),
    ),
    summer_break=((8, 3), (8, 23)),
    manager=Person("gestion@baraka.demo", "Nadia", "Bouzid", "03 53 01 10 11", "gérante"),
    staff=Person("accueil@baraka.demo", "Jérôme", "Lemaire", "03 53 01 10 12", "accueil et régie"),
    members=(
        "lea@demo.lieux-communs.org",
        "thomas@demo.lieux-communs.org",
        "aurore@demo.lieux-communs.org",
    ),
    resources=(
        ResourceSpec(
            "grande-salle",
            "Grande salle",
            "room",
            80,
            "La salle du restaurant hors service, pour assemblées, projections et soirées. Se divise en "
            "deux par une cloison mobile : la salle Jardin et la salle Verrière.",
            ("vidéoprojecteur", "écran", "sonorisation"),
            prices=(Price("hour", "40", "60"), Price("half_day", "140", "220"), Price("day", "250", "400")),
            rules={
                "granularity_minutes": 60,
                "min_duration": timedelta(hours=2),
                "buffer_after": timedelta(minutes=30),
                "cancellation_deadline": timedelta(days=7),
            },
        ),
        ResourceSpec(
            "salle-jardin",
            "Salle Jardin",
            "room",
            35,
            "Côté jardin, lumière naturelle, ouvre sur la terrasse.",
            ("écran", "tableau blanc"),
            parent="grande-salle",
            prices=(Price("hour", "20", "30"), Price("half_day", "70", "110"), Price("day", "120", "200")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "salle-verriere",
            "Salle Verrière",
            "room",
            35,
            "Sous la verrière de l'ancien atelier textile.",
            ("vidéoprojecteur", "tableau blanc"),
            parent="grande-salle",
            prices=(Price("hour", "20", "30"), Price("half_day", "70", "110"), Price("day", "120", "200")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "le-fournil",
            "Le Fournil",
            "room",
            12,
            "Salle de réunion au calme, à l'étage.",
            ("écran", "visio", "tableau blanc"),
            prices=(Price("hour", "12", "18"), Price("half_day", "40", "60"), Price("day", "70", "110")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "cuisine-pedagogique",
            "Cuisine pédagogique",
            "room",
            10,
            "Cuisine professionnelle pour ateliers et formations ; le nettoyage est compris.",
            ("plans de travail inox", "four mixte", "chambre froide"),
            prices=(Price("hour", "25", "40"), Price("half_day", "80", "130"), Price("day", "150", "240")),
            rules={
                "granularity_minutes": 30,
                "min_duration": timedelta(hours=2),
                "buffer_after": timedelta(minutes=30),
                "bookable_by": "members",
            },
        ),
        ResourceSpec(
            "poste-coworking-1",
            "Poste coworking 1",
            "desk",
            1,
            "Poste en mezzanine, vue sur la salle.",
            ("écran 24 pouces",),
            prices=(Price("half_day", "8", "12"), Price("day", "14", "20")),
            rules=DESK_RULES,
        ),
        ResourceSpec(
            "poste-coworking-2",
            "Poste coworking 2",
            "desk",
            1,
            "Poste en mezzanine, près de la fenêtre.",
            (),
            prices=(Price("half_day", "8", "12"), Price("day", "14", "20")),
            rules=DESK_RULES,
        ),
    ),
    slots=(
        Slot(
            "salle-jardin",
            "lea@demo.lieux-communs.org",
            TUE,
            "18:30",
            "20:30",
            "Conseil de quartier de l'Épeule",
            weeks=(-2, -1, 0, 1, 2, 3),
        ),
        Slot(
            "cuisine-pedagogique",
            "aurore@demo.lieux-communs.org",
            WED,
            "14:00",
            "17:00",
            "Atelier cuisine anti-gaspi",
            weeks=(-2, 0, 2),
            notes="Groupe de 8 du centre social ; prévoir les tabliers.",
        ),
        Slot(
            "salle-verriere",
            "thomas@demo.lieux-communs.org",
            SAT,
            "10:00",
            "13:00",
            "Repair café",
            weeks=(-1, 1, 3),
        ),
        Slot(
            "grande-salle",
            "lea@demo.lieux-communs.org",
            FRI,
            "18:00",
            "21:00",
            "Assemblée des habitant·es",
            weeks=(1,),
            notes="80 personnes attendues, prévoir la sono et deux micros.",
        ),
        Slot(
            "grande-salle",
            "gestion@baraka.demo",
            FRI,
            "19:00",
            "22:00",
            "Ciné-débat « Les communs »",
            weeks=(-1,),
        ),
        Slot(
            "le-fournil",
            "aurore@demo.lieux-communs.org",
            MON,
            "10:00",
            "12:00",
            "Réunion pédagogique",
            weeks=(-1, 0, 1, 2),
        ),
        *(
            Slot(
                "poste-coworking-1",
                "thomas@demo.lieux-communs.org",
                day,
                "09:00",
                "17:00",
                "Journée de travail",
                weeks=(-1, 0, 1),
            )
            for day in (MON, WED, FRI)
        ),
        *(
            Slot(
                "poste-coworking-2",
                "lea@demo.lieux-communs.org",
                day,
                "09:00",
                "13:00",
                "Matinée de travail",
                weeks=(0, 1, 2),
            )
            for day in (TUE, THU)
        ),
        Slot(
            "cuisine-pedagogique",
            "aurore@demo.lieux-communs.org",
            FRI,
            "14:00",
            "17:00",
            "Atelier pain au levain",
            weeks=(2,),
            then="cancel",
        ),
    ),
    series=(
        SeriesSpec(
            "le-fournil", "accueil@baraka.demo", THU, "09:00", "11:00", "Comité de pilotage de la SCIC", -2, 3
        ),
    ),
)

LA_COROUTINE = VenueSpec(
    slug="la-coroutine",
    name="La Coroutine",
    description=(
        "Espace de coworking associatif à Lille-Fives, pour indépendant·es, petites équipes et "
        "associations du numérique : postes nomades, deux salles de réunion et une bulle pour les visios."
    ),
    legal_name="Association La Coroutine",
    legal_form="Association loi 1901",
    siret="79261843100011",
    # Franchise en base (art. 293 B du CGI): the association's takings from desks and rooms stay under
    # the threshold for services. The members' exemption (art. 261-7-1° a) would not fit: it covers
    # social, educational, cultural or sporting services, and renting desks is none of these.
    vat_status="franchise",
    vat_number="",
    street="35 rue Pierre Legrand",
    postcode="59800",
    city="Lille",
    latitude="50.630120",
    longitude="3.087310",
    phone="03 53 01 20 20",
    email="bonjour@la-coroutine.demo",
    hours=tuple((day, "08:30", "19:00") for day in (MON, TUE, WED, THU, FRI)),
    summer_break=((8, 10), (8, 16)),
    manager=Person("gestion@la-coroutine.demo", "Sophie", "Carpentier", "03 53 01 20 21", "coordinatrice"),
    staff=Person("accueil@la-coroutine.demo", "Hugo", "Deneuve", "03 53 01 20 22", "accueil"),
    members=(
        "camille@demo.lieux-communs.org",
        "yanis@demo.lieux-communs.org",
        "ines@demo.lieux-communs.org",
        "karim@demo.lieux-communs.org",
    ),
    resources=(
        ResourceSpec(
            "salle-ada",
            "Salle Ada",
            "room",
            8,
            "Petite salle de réunion, écran et caméra pour les réunions hybrides.",
            ("écran", "visio", "tableau blanc"),
            prices=(Price("hour", "10", "15"), Price("half_day", "35", "50"), Price("day", "60", "90")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "salle-hopper",
            "Salle Hopper",
            "room",
            16,
            "Grande salle pour ateliers et formations, modulable en U ou en îlots.",
            ("vidéoprojecteur", "visio", "tableau blanc"),
            prices=(Price("hour", "18", "25"), Price("half_day", "60", "85"), Price("day", "100", "150")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "bulle-visio",
            "Bulle visio",
            "room",
            2,
            "Cabine insonorisée pour les appels et les visios.",
            ("visio", "écran"),
            prices=(Price("hour", "4", "6"),),
            rules={
                "granularity_minutes": 15,
                "min_duration": timedelta(minutes=15),
                "max_duration": timedelta(hours=2),
            },
        ),
        *(
            ResourceSpec(
                f"poste-nomade-{n}",
                f"Poste nomade {n}",
                "desk",
                1,
                "Poste en open space, écran et chaise ergonomique.",
                ("écran 27 pouces",),
                prices=(Price("half_day", "7", "10"), Price("day", "12", "18")),
                rules=DESK_RULES,
            )
            for n in (1, 2, 3)
        ),
        ResourceSpec(
            "poste-resident-1",
            "Poste résident 1",
            "desk",
            1,
            "Poste fixe près de la fenêtre, caisson fermant à clé : loué au mois aux résident·es.",
            ("écran 27 pouces", "caisson"),
            prices=(Price("day", "12", "18"),),
            rules=DESK_RULES,
        ),
    ),
    slots=(
        Slot(
            "salle-hopper",
            "ines@demo.lieux-communs.org",
            WED,
            "14:00",
            "17:00",
            "Atelier UX avec la Métropole",
            weeks=(-1, 1),
            organisation=FILATURE,
        ),
        Slot(
            "bulle-visio",
            "camille@demo.lieux-communs.org",
            MON,
            "11:00",
            "11:45",
            "Visio client",
            weeks=(-2, -1, 0, 1, 2),
        ),
        *(
            Slot(
                "poste-nomade-1",
                "karim@demo.lieux-communs.org",
                day,
                "09:00",
                "18:00",
                "Journée au coworking",
                weeks=(-1, 0, 1, 2),
            )
            for day in (MON, TUE, WED)
        ),
        *(
            Slot(
                "poste-nomade-2",
                "camille@demo.lieux-communs.org",
                day,
                "09:00",
                "13:00",
                "Matinée au coworking",
                weeks=(-2, -1, 0, 1, 2, 3),
            )
            for day in (TUE, THU)
        ),
        Slot(
            "poste-nomade-3",
            "yanis@demo.lieux-communs.org",
            WED,
            "13:00",
            "18:00",
            "Après-midi au coworking",
            weeks=(-1, 0, 1),
            organisation=FILATURE,
        ),
        Slot(
            "salle-ada",
            "karim@demo.lieux-communs.org",
            THU,
            "14:00",
            "16:00",
            "Entretien de recrutement",
            weeks=(0,),
        ),
        Slot(
            "salle-hopper",
            "gestion@la-coroutine.demo",
            THU,
            "18:00",
            "19:00",
            "Conseil d'administration de l'association",
            weeks=(-1,),
        ),
    ),
    series=(
        SeriesSpec(
            "salle-hopper",
            "accueil@la-coroutine.demo",
            FRI,
            "09:00",
            "10:00",
            "Petit-déj des coworkers",
            -2,
            3,
        ),
        SeriesSpec(
            "salle-ada",
            "yanis@demo.lieux-communs.org",
            TUE,
            "09:30",
            "10:30",
            "Point d'équipe Filature Numérique",
            1,
            3,
            organisation=FILATURE,
        ),
    ),
)

MONS_FABRICA = VenueSpec(
    slug="mons-fabrica",
    name="Mons Fabrica",
    description=(
        "Fablab associatif de Mons-en-Barœul : découpeuse laser, impression 3D, atelier bois et "
        "formations pour les habitant·es, les écoles et les artisans."
    ),
    legal_name="Association Mons Fabrica",
    legal_form="Association loi 1901",
    siret="84417095100017",
    # Its members' workshop access is exempt (art. 261-7-1° a); machine time and trainings sold to artisans
    # and companies are taxed.
    vat_status="exempt_members",
    vat_number="FR05844170951",
    street="2 rue du Fort",
    postcode="59370",
    city="Mons-en-Barœul",
    latitude="50.641320",
    longitude="3.110680",
    phone="03 53 01 30 30",
    email="contact@mons-fabrica.demo",
    hours=(
        *((day, "09:30", "12:30") for day in (TUE, WED, THU, FRI)),
        *((day, "13:30", "19:00") for day in (TUE, WED, THU, FRI)),
        (SAT, "09:30", "12:30"),
    ),
    summer_break=((8, 1), (8, 24)),
    manager=Person("gestion@mons-fabrica.demo", "Malik", "Saïdi", "03 53 01 30 31", "directeur"),
    staff=Person("accueil@mons-fabrica.demo", "Élise", "Vermeulen", "03 53 01 30 32", "fabmanageuse"),
    members=(
        "mehdi@demo.lieux-communs.org",
        "camille@demo.lieux-communs.org",
        "thomas@demo.lieux-communs.org",
        "karim@demo.lieux-communs.org",
    ),
    resources=(
        ResourceSpec(
            "decoupeuse-laser",
            "Découpeuse laser 60 W",
            "equipment",
            1,
            "Découpe et gravure jusqu'à 600 × 400 mm : bois, carton, plexiglas (pas de PVC). Sur "
            "validation de la formation ; chaque demande est relue par l'équipe.",
            ("découpe", "gravure"),
            prices=(Price("hour", "15", "30"), Price("half_day", "50", "100")),
            rules={
                "granularity_minutes": 30,
                "min_duration": timedelta(minutes=30),
                "max_duration": timedelta(hours=3),
                # The fumes must be extracted and the lens checked before the next job.
                "buffer_after": timedelta(minutes=15),
                "approval_required": True,
                "bookable_by": "members",
            },
        ),
        ResourceSpec(
            "imprimante-3d",
            "Imprimante 3D Prusa MK4",
            "equipment",
            1,
            "Impression PLA et PETG, plateau 250 × 210 mm.",
            ("PLA", "PETG"),
            prices=(Price("hour", "3", "6"), Price("half_day", "10", "20")),
            rules={
                "granularity_minutes": 60,
                "min_duration": timedelta(hours=1),
                "max_duration": timedelta(hours=5),
                "bookable_by": "members",
            },
        ),
        ResourceSpec(
            "atelier-bois",
            "Atelier bois",
            "room",
            8,
            "Établis, scie à format, défonceuse et aspiration ; chaussures de sécurité obligatoires.",
            ("établis", "scie à format", "aspiration"),
            prices=(Price("hour", "8", "15"), Price("half_day", "25", "50")),
            rules={"granularity_minutes": 30, "min_duration": timedelta(hours=1), "bookable_by": "members"},
        ),
        ResourceSpec(
            "salle-formation",
            "Salle de formation",
            "room",
            14,
            "Salle avec ordinateurs portables pour les formations CAO et électronique.",
            ("vidéoprojecteur", "tableau blanc"),
            prices=(Price("hour", "12", "20"), Price("half_day", "40", "70"), Price("day", "70", "120")),
            rules=MEETING_ROOM_RULES,
        ),
        ResourceSpec(
            "poste-cao",
            "Poste CAO",
            "desk",
            1,
            "Station de conception (Fusion, FreeCAD, Inkscape) près des machines.",
            ("écran 27 pouces", "tablette graphique"),
            prices=(Price("hour", "2", "4"), Price("half_day", "6", "12")),
            rules={"granularity_minutes": 30, "min_duration": timedelta(hours=1), "bookable_by": "members"},
        ),
    ),
    slots=(
        Slot(
            "decoupeuse-laser",
            "mehdi@demo.lieux-communs.org",
            WED,
            "14:00",
            "15:30",
            "Découpe de boîtes en contreplaqué 3 mm",
            weeks=(1,),
            notes="Fichiers SVG prêts, j'apporte mes planches.",
        ),
        Slot(
            "decoupeuse-laser",
            "camille@demo.lieux-communs.org",
            THU,
            "10:00",
            "11:30",
            "Logo en plexiglas pour une vitrine",
            weeks=(2,),
        ),
        Slot(
            "decoupeuse-laser",
            "karim@demo.lieux-communs.org",
            SAT,
            "10:00",
            "11:00",
            "Gravure de plaques pour un drone",
            weeks=(3,),
        ),
        Slot(
            "decoupeuse-laser",
            "thomas@demo.lieux-communs.org",
            FRI,
            "16:00",
            "17:00",
            "Gravure de planches à découper",
            weeks=(1,),
            then="approve",
        ),
        Slot(
            "decoupeuse-laser",
            "accueil@mons-fabrica.demo",
            THU,
            "14:00",
            "16:00",
            "Maintenance : nettoyage de l'optique",
            weeks=(-1,),
        ),
        Slot(
            "imprimante-3d",
            "karim@demo.lieux-communs.org",
            TUE,
            "14:00",
            "18:00",
            "Impression de pièces de drone",
            weeks=(1, 2),
        ),
        Slot(
            "imprimante-3d",
            "accueil@mons-fabrica.demo",
            WED,
            "14:00",
            "18:00",
            "Supports pour l'exposition de fin d'année",
            weeks=(-1,),
        ),
        Slot(
            "atelier-bois",
            "thomas@demo.lieux-communs.org",
            WED,
            "09:30",
            "12:30",
            "Fabrication de mobilier pour Baraka",
            weeks=(-2, -1, 0, 1, 2, 3),
        ),
        Slot(
            "poste-cao",
            "mehdi@demo.lieux-communs.org",
            FRI,
            "14:00",
            "18:00",
            "Modélisation d'un boîtier",
            weeks=(-1, 0, 1, 2),
        ),
        Slot(
            "salle-formation",
            "gestion@mons-fabrica.demo",
            TUE,
            "14:00",
            "17:00",
            "Formation Fusion 360 pour débutant·es",
            weeks=(0, 2),
        ),
    ),
    series=(
        SeriesSpec(
            "salle-formation",
            "accueil@mons-fabrica.demo",
            SAT,
            "10:00",
            "12:00",
            "Initiation au fablab",
            -2,
            3,
        ),
    ),
)

VENUES = (BARAKA, LA_COROUTINE, MONS_FABRICA)
