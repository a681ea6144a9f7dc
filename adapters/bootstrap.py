"""The composition root: the application on its store, its read-model views and the
runtime (the projection worker, the Kafka relay), for the web, the CLI, the worker, the
seeders and the tests alike. Settings come from the environment
(adapters.config.application_env) unless an ``env`` is given.

Nothing below imports this module: the runtime is handed its settings (``env``) and
builds its own connections from them."""

from __future__ import annotations

from eventsourcing.postgres import PostgresTrackingRecorder

from adapters.config import application_env
from adapters.kafka.relay import KafkaSettings, Relay, relay_tracking
from adapters.runtime.registry import READ_MODELS, open_view
from adapters.runtime.worker import Worker
from adapters.store.application import StoredCaseFiles
from adapters.views.base import PostgresStatefulView
from services.casefiles import CaseFiles

__all__ = ["build_casefiles", "open_view", "open_views", "open_relay_tracking",
           "build_worker", "build_relay"]


def build_casefiles(env: dict[str, str] | None = None) -> CaseFiles:
    """The case-management application with this project's store."""
    return StoredCaseFiles(env=application_env() if env is None else env)


def open_views(env: dict[str, str]) -> dict[str, PostgresStatefulView]:
    """Every read model's live view (``open_view``: one), by name; none when the
    application's store is not PostgreSQL (the in-memory store of the unit tests)."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return {}
    return {name: open_view(env, name) for name in READ_MODELS}


def open_relay_tracking(env: dict[str, str]) -> PostgresTrackingRecorder | None:
    """The Kafka relay's position (for health and status), when a relay is configured."""
    if KafkaSettings.from_env(env) is None:
        return None
    return relay_tracking(env)


def build_worker(env: dict[str, str] | None = None, names: tuple[str, ...] | None = None,
                 *, run_rules: bool = True, run_clock: bool = True) -> Worker:
    """The projection worker (not started): ``names`` the projections it runs (default
    all), with the rules and the daily clock unless told not to, and the Kafka relay
    when KAFKA_BOOTSTRAP_SERVERS is set."""
    return Worker(application_env() if env is None else dict(env),
                  tuple(READ_MODELS) if names is None else tuple(names),
                  run_rules=run_rules, run_clock=run_clock)


def build_relay(env: dict[str, str] | None = None) -> Relay | None:
    """The Kafka relay on its own (not started); None when KAFKA_BOOTSTRAP_SERVERS is not
    set."""
    env = application_env() if env is None else dict(env)
    settings = KafkaSettings.from_env(env)
    return None if settings is None else Relay(env, settings)
