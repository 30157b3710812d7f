"""Contributions made tangible: projects (chantiers), declared contributions and their peer review,
contributive budgets with their double-entry ledger, payouts in euros or network credit, the credit settled
to the venues that honour it, and allocation rounds. Network-level rows are cross-venue (ARCHITECTURE.md
§4.7): a project or budget without a venue belongs to the whole network."""

from lieux.contributions.models.budgets import (
    Budget,
    BudgetStatus,
    Closing,
    FundingReceipt,
    FundingSource,
    Overrun,
    SourceKind,
    Validators,
)
from lieux.contributions.models.contributions import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    ContributorProfile,
    Review,
    Verdict,
    Visibility,
)
from lieux.contributions.models.hours import ActivityHours, PersonHours, Scope
from lieux.contributions.models.ledger import Account, LedgerEntry, LedgerTransaction, TransactionKind
from lieux.contributions.models.ledger_days import LedgerDay, PersonOwed
from lieux.contributions.models.payouts import CreditConversion, Payout, PayoutMethod
from lieux.contributions.models.projects import Activity, Project, ProjectStatus
from lieux.contributions.models.rounds import (
    Allocation,
    AllocationRound,
    AllocationRule,
    RoundParticipant,
    RoundProject,
    RoundStatus,
)
from lieux.contributions.models.settlements import CreditSettlement

__all__ = [
    "Account",
    "Activity",
    "ActivityHours",
    "Allocation",
    "AllocationRound",
    "AllocationRule",
    "Budget",
    "BudgetStatus",
    "Closing",
    "Contribution",
    "ContributionKind",
    "ContributionStatus",
    "ContributorProfile",
    "CreditConversion",
    "CreditSettlement",
    "FundingReceipt",
    "FundingSource",
    "LedgerDay",
    "LedgerEntry",
    "LedgerTransaction",
    "Overrun",
    "Payout",
    "PayoutMethod",
    "PersonHours",
    "PersonOwed",
    "Project",
    "ProjectStatus",
    "Review",
    "RoundParticipant",
    "RoundProject",
    "RoundStatus",
    "Scope",
    "SourceKind",
    "TransactionKind",
    "Validators",
    "Verdict",
    "Visibility",
]
