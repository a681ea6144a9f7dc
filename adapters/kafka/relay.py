"""The relay: follows the recorded event sequence from its own tracked position (in
PostgreSQL) and publishes each event to Kafka, keyed by its aggregate id so each
organization's events stay in order on one partition. The position advances only after
the broker acknowledged the whole batch (acks=all). When the broker is unreachable it
retries with back-off; command handling never talks to Kafka (STYLE habit 9).

Batches are pipelined: while the broker acknowledges one batch, the next is read from
PostgreSQL, decrypted and encoded, but it is sent only once the first is acknowledged, so a
failed batch is never followed on the topic by a later one; within a batch, the first
failed send stops the producer (``Relay.send``), so none of its later messages follows. When idle the relay sleeps
until the recorder's NOTIFY on the events table's channel (a LISTEN connection of its own),
or at most ``idle_wait`` (1 s), so a recorded event is published within milliseconds.

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
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresFactory, PostgresTrackingRecorder
from eventsourcing.utils import Environment, strtobool
from psycopg.sql import SQL, Identifier

from adapters.config import connection_info
from adapters.kafka.cloudevents import PublishSettings, encode, is_published, to_cloudevent
from adapters.store.application import StoredCaseFiles
from adapters.store.ddl import SerializedDDL
from services.log import recorded_pages
from domain.inspection_plan import InspectionPlan
from domain.organization import Organization

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


@dataclass
class Batch:
    """The messages (key, CloudEvent JSON) for a run of notifications up to ``last``;
    ``covered`` counts the notifications, the unpublished ones included."""

    last: int
    covered: int
    messages: list[tuple[bytes, bytes]]


class Wakeup:
    """LISTEN on the events table's channel on a connection of its own: the recorder
    NOTIFYs it in every transaction that records events. ``listen`` (re)connects; ``wait``
    returns True as soon as a notification arrives (having drained the others queued), False
    after ``timeout``; a broken connection (PostgreSQL restarted) raises, and the next
    ``listen`` connects again."""

    SLICE = 0.1  # so a stopping relay does not wait out the whole timeout

    def __init__(self, env: dict[str, str], channel: str, stopping: threading.Event):
        self.env, self.channel, self.stopping = env, channel, stopping
        self.conn: psycopg.Connection | None = None
        self.notified = 0  # wake-ups by a notification (for tests and status)

    def listen(self) -> None:
        if self.conn is not None and not self.conn.closed:
            return
        self.conn = psycopg.connect(**connection_info(self.env), autocommit=True,
                                    connect_timeout=5, application_name="casefile relay")
        self.conn.execute(SQL("LISTEN {0}").format(Identifier(self.channel)))

    def wait(self, timeout: float) -> bool:
        self.listen()
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # (each notifies() runs to its end: it holds the connection's lock meanwhile)
            if list(self.conn.notifies(timeout=min(remaining, self.SLICE), stop_after=1)):
                list(self.conn.notifies(timeout=0))  # the others already queued
                self.notified += 1
                return True
        return False

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # closing a broken connection; the next listen reconnects
                pass
            self.conn = None


class Relay:
    MAX_BACKOFF = 30.0  # seconds: the longest pause between attempts while Kafka refuses

    def __init__(self, env: dict[str, str], settings: KafkaSettings):
        self.env = env
        self.settings = settings
        self.app = StoredCaseFiles(env=env)
        self.tracking = relay_tracking(env)
        self.stopping = threading.Event()
        self.subjects: dict[UUID, str] = {}
        self._producer = None
        self.wakeup = Wakeup(self.app.env, self.app.recorder.channel_name, self.stopping)
        self.published = 0
        self.last_error: str | None = None

    # ------------------------------------------------------------------ producer

    def producer(self):
        if self._producer is None:
            # The web and the CLI import this module for its settings, and
            # start-up: kafka-python (about 0.1 s) is imported only where a relay publishes
            from kafka import KafkaProducer

            self._producer = KafkaProducer(
                **self.settings.client_config(), client_id="casefile-relay", acks="all", retries=5,
                max_in_flight_requests_per_connection=1, linger_ms=5,
                batch_size=256 * 1024, request_timeout_ms=15000, max_block_ms=15000,
                enable_idempotence=False)
        return self._producer

    def _drop_producer(self) -> None:
        """Stop the producer at once, abandoning the sends not yet acknowledged: the next
        producer sends again from the position. (kafka-python's ``close()`` flushes first;
        while sends are pending it raises and leaves the producer's sender thread running,
        which would go on retrying them beside the next producer's and could land its
        copies after the next producer's messages.)"""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        # kafka-python has no public call that abandons pending sends: its sender's
        # force_close() fails them and ends the thread, which close() then finds stopped
        producer._sender.force_close()
        producer._sender.join(5)
        try:
            producer.close(timeout=0)
        except Exception as e:  # its sender is stopped either way; a new one is made on retry
            log.warning("the relay's Kafka producer did not close cleanly: %s", e)

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
            elif isinstance(event, InspectionPlan.Planned):
                self.subjects[originator] = event.number
            elif isinstance(event, InspectionPlan.Event):
                self.subjects[originator] = next(iter(self.app.events.get(originator,
                                                                          lte=1))).number
            else:
                self.subjects[originator] = str(originator)
        return self.subjects[originator]

    def read(self, start: int) -> Batch | None:
        """The next batch after position ``start``, decoded and encoded; None: none new.
        Only what cloudevents.is_published allows becomes a message."""
        page = next(recorded_pages(self.app, start, None, self.settings.batch), None)
        if not page:
            return None
        publish = self.settings.publish
        messages = []
        for event, position in page:
            if not is_published(event):
                continue
            # Structured mode: the content type travels in the message itself (Kafka 0.9
            # has no message headers).
            messages.append((str(event.originator_id).encode(), encode(to_cloudevent(
                event, position, self.subject(event), publish))))
        return Batch(page[-1][1], len(page), messages)

    def send(self, batch: Batch) -> list:
        """Hand the batch to the producer; the futures of its acknowledgements.

        The first send that fails stops the producer at once (its sender's
        ``force_close``, from the sender thread itself): the producer splits a batch's
        messages to a partition into several requests as it goes, and after one of them
        failed kafka-python sends the partition's next one, which would put an
        organization's later events on the topic before earlier ones that were never
        written (seen in the Kafka cluster test: versions 212-263 missing between 211 and
        264 of every organization on a partition). Stopped, it sends nothing more, and the
        relay sends the batch again from its position with a new producer."""
        producer = self.producer()
        sender, topic = producer._sender, self.settings.topic

        def stop(_error: BaseException) -> None:
            sender.force_close()

        futures = []
        for key, value in batch.messages:
            future = producer.send(topic, key=key, value=value)
            future.add_errback(stop)  # (called at once if it failed already)
            futures.append(future)
        return futures

    def acknowledged(self, futures: list) -> None:
        """Return once the broker acknowledged every message (acks=all); raise otherwise."""
        if futures:
            self.producer().flush(timeout=30)
        for future in futures:
            future.get(timeout=30)

    def advance(self, batch: Batch) -> None:
        """Move the position past an acknowledged batch."""
        self.tracking.insert_tracking(Tracking(self.app.name, batch.last))
        self.published += len(batch.messages)

    def relay_batch(self) -> int:
        """Publish the next batch; return how many events it covered (0: none new)."""
        batch = self.read(self.position())
        if batch is None:
            return 0
        self.acknowledged(self.send(batch))
        self.advance(batch)
        return batch.covered

    def relay_pending(self) -> int:
        """Publish everything recorded after the position; return how many events that
        covered. The next batch is read and encoded while the broker acknowledges the
        current one, and the position is written while the broker takes the next one; a
        batch is sent only after the one before it was acknowledged in full."""
        covered = 0
        batch = self.read(self.position())
        futures = self.send(batch) if batch else []
        while batch is not None and not self.stopping.is_set():
            following = self.read(batch.last)
            self.acknowledged(futures)
            futures = self.send(following) if following else []
            self.advance(batch)
            covered += batch.covered
            batch = following
        if futures:  # stopping: the one sent is waited for, so its position is kept
            self.acknowledged(futures)
            self.advance(batch)
            covered += batch.covered
        return covered

    def run(self, idle_wait: float = 1.0) -> None:
        """Relay until stopped: publish what is pending, then sleep until the recorder
        NOTIFYs (or ``idle_wait`` seconds, in case a notification was lost). The LISTEN
        starts before each read, so an event recorded after the read wakes the relay."""
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                self.wakeup.listen()
                self.relay_pending()
                self.last_error = None
                backoff = 0.5
                self.wakeup.wait(idle_wait)
            except Exception as e:  # broker or database unreachable: retry from the position
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("relay paused (%s); retrying in %.1fs", self.last_error, backoff)
                self._drop_producer()
                self.wakeup.close()
                if self.stopping.wait(backoff):
                    break
                backoff = min(backoff * 2, self.MAX_BACKOFF)

    def start(self, idle_wait: float = 1.0) -> "Relay":
        self._thread = threading.Thread(target=self.run, args=(idle_wait,), name="kafka-relay",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join(timeout=30)
        self._drop_producer()
        self.wakeup.close()
        self.tracking.datastore.close()
        self.app.close()


def relay_status(env: dict[str, str]) -> dict:
    app = StoredCaseFiles(env=env)
    try:
        tracking = relay_tracking(env)
        position = tracking.max_tracking_id(app.name) or 0
        head = app.recorder.max_notification_id() or 0
        tracking.datastore.close()
        return {"position": position, "head": head, "lag": head - position,
                "configured": KafkaSettings.from_env(env) is not None}
    finally:
        app.close()
