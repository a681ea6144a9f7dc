"""The composition root: the application on its store, for the web, the CLI, the worker,
the relay, the seeders and the tests alike. Settings come from the environment
(adapters.config.application_env) unless an ``env`` is given."""

from __future__ import annotations

from adapters.config import application_env
from adapters.store.application import StoredCaseFiles
from services.casefiles import CaseFiles


def build_casefiles(env: dict[str, str] | None = None) -> CaseFiles:
    """The case-management application with this project's store."""
    return StoredCaseFiles(env=application_env() if env is None else env)
