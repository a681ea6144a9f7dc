"""The relay: follows the recorded event sequence from its own tracked position (in
PostgreSQL) and publishes each event to Kafka, keyed by its aggregate id so each
organization's events stay in order on one partition. The position advances only after
the broker acknowledged the whole batch (acks=all). When the broker is unreachable it
retries with back-off; command handling never talks to Kafka (STYLE habit 9).

Settings:

| setting | default | meaning |
|---|---|---|
| KAFKA_BOOTSTRAP_SERVERS | unset: no relay | brokers, ``host:port[,host:port]`` |
| KAFKA_TOPIC | ``socorg.events`` | the topic |
| KAFKA_API_VERSION | auto-detect | e.g. ``0.9`` for the test broker |
| KAFKA_BATCH | ``500`` | events per batch |
| KAFKA_SOURCE | ``urn:casefile:civil-affairs`` | CloudEvents ``source`` |
| KAFKA_REDACT_NAMES | ``no`` | leave leaders' names out of the published data |
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment, strtobool

from adapters.postgres_ddl import SerializedDDL
from adapters.cloudevents import PublishSettings, encode, is_published, to_cloudevent
from domain.organization import Organization
from services.casefiles import CaseFiles

log = logging.getLogger(__name__)

RELAY_NAME = "relay"


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    topic: str = "socorg.events"
    api_version: tuple[int, ...] | None = None
    batch: int = 500
    publish: PublishSettings = PublishSettings()

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "KafkaSettings | None":
        servers = env.get("KAFKA_BOOTSTRAP_SERVERS")
        if not servers:
            return None
        version = env.get("KAFKA_API_VERSION")
        return cls(bootstrap_servers=servers, topic=env.get("KAFKA_TOPIC", "socorg.events"),
                   api_version=tuple(int(p) for p in version.split(".")) if version else None,
                   batch=int(env.get("KAFKA_BATCH", "500")),
                   publish=PublishSettings(
                       source=env.get("KAFKA_SOURCE", PublishSettings.source),
                       redact_names=strtobool(env.get("KAFKA_REDACT_NAMES", "no"))))

    def client_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers.split(",")}
        if self.api_version:
            config["api_version"] = self.api_version
        return config


class RelayTrackingRecorder(SerializedDDL, PostgresTrackingRecorder):
    """The relay's position (table ``relay_tracking``)."""


def relay_tracking(env: dict[str, str]) -> PostgresTrackingRecorder:
    factory = PostgresFactory(Environment(RELAY_NAME, {**env, "POSTGRES_POOL_SIZE": "1",
                                                       "POSTGRES_MAX_OVERFLOW": "2"}))
    recorder = factory.tracking_recorder(RelayTrackingRecorder)
    recorder.create_table()
    return recorder


class Relay:
    def __init__(self, env: dict[str, str], settings: KafkaSettings):
        self.env = env
        self.settings = settings
        self.app = CaseFiles(env=env)
        self.tracking = relay_tracking(env)
        self.stopping = threading.Event()
        self.subjects: dict[UUID, str] = {}
        self._producer = None
        self.published = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------------ producer

    def producer(self):
        if self._producer is None:
            from kafka import KafkaProducer

            self._producer = KafkaProducer(
                **self.settings.client_config(), acks="all", retries=5,
                max_in_flight_requests_per_connection=1, linger_ms=5,
                batch_size=256 * 1024, request_timeout_ms=15000, max_block_ms=15000,
                enable_idempotence=False)
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # closing a broken producer; a new one is made on retry
                pass
            self._producer = None

    # ------------------------------------------------------------------ relaying

    def position(self) -> int:
        return self.tracking.max_tracking_id(self.app.name) or 0

    def subject(self, event: Any) -> str:
        originator = event.originator_id
        if originator not in self.subjects:
            if isinstance(event, Organization.Founded):
                self.subjects[originator] = event.identifier
            elif isinstance(event, Organization.Event):
                first = next(iter(self.app.events.get(originator, lte=1)))
                self.subjects[originator] = first.identifier
            else:
                self.subjects[originator] = str(originator)
        return self.subjects[originator]

    def relay_batch(self) -> int:
        """Publish the next batch; return how many events it covered (0: none new)."""
        start = self.position()
        notifications = self.app.recorder.select_notifications(start=start + 1,
                                                               limit=self.settings.batch)
        if not notifications:
            return 0
        producer = self.producer()
        futures = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            if not is_published(event):
                continue
            message = to_cloudevent(event, notification.id, self.subject(event),
                                    self.settings.publish)
            # Structured mode: the content type travels in the message itself (Kafka 0.9
            # has no message headers).
            futures.append(producer.send(
                self.settings.topic, key=str(event.originator_id).encode(),
                value=encode(message)))
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)  # raises unless the broker acknowledged (acks=all)
        self.tracking.insert_tracking(Tracking(self.app.name, notifications[-1].id))
        self.published += len(futures)
        return len(notifications)

    def run(self, idle_wait: float = 0.05) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                if self.relay_batch() == 0:
                    self.stopping.wait(idle_wait)
                self.last_error = None
                backoff = 0.5
            except Exception as e:  # broker or database unreachable: retry from the position
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("relay paused (%s); retrying in %.1fs", self.last_error, backoff)
                self._drop_producer()
                if self.stopping.wait(backoff):
                    break
                backoff = min(backoff * 2, 30.0)

    def start(self) -> "Relay":
        self._thread = threading.Thread(target=self.run, name="kafka-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join(timeout=30)
        self._drop_producer()
        self.tracking.datastore.close()
        self.app.close()


def relay_status(env: dict[str, str]) -> dict:
    app = CaseFiles(env=env)
    try:
        tracking = relay_tracking(env)
        position = tracking.max_tracking_id(app.name) or 0
        head = app.recorder.max_notification_id() or 0
        tracking.datastore.close()
        return {"position": position, "head": head, "lag": head - position,
                "configured": KafkaSettings.from_env(env) is not None}
    finally:
        app.close()
