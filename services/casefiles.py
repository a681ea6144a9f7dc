"""The case-management application: organizations, persons, accounts, time travel, the
early-warning network and the rules, each a use-case module mixed into one eventsourcing
Application (services.application). The adapters build it with its store
(adapters.bootstrap)."""

from __future__ import annotations

from domain.organization import Organization
from domain.person import Person
from services.accounts import AccountUseCases
from services.documents import DocumentUseCases
from services.application import CaseFileApplication
from services.network import NetworkUseCases
from services.organizations import OrganizationUseCases
from services.persons import PersonUseCases
from services.rules import RuleUseCases
from services.time_travel import TimeTravelUseCases


class CaseFiles(OrganizationUseCases, PersonUseCases, AccountUseCases, TimeTravelUseCases,
                NetworkUseCases, RuleUseCases, DocumentUseCases, CaseFileApplication):
    """The case-management application: organizations, persons, accounts and the
    documents their entries rest on."""

    name = "casefile"  # (the tables' prefix: the library names an application by its class)
    snapshotting_intervals = {Organization: 50, Person: 50}
    # the library's zlib where nothing else is said; a deployment's environment
    # (adapters.config.application_env) names the store's own, read the same way
    env = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
