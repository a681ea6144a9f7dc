"""The application with its store: the row-bound mapper, personal values sealed with
each person's key (and the key table), the application recorder by topic, and the
snapshot versions read in SQL. Built by adapters.bootstrap."""

from __future__ import annotations

import base64
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import resolve_topic, strtobool
from psycopg.sql import SQL, Identifier

from adapters.store.documents import InMemoryDocuments, PostgresDocuments
from adapters.store.invalidation import WriteListener
from adapters.store.mapper import RowBoundMapper
from adapters.store.memory import InMemoryPersonKeys
from adapters.store.person_keys import PostgresPersonKeys
from adapters.store.recorder import CaseFileRecorder
from adapters.store.sealing import PersonKeyRing, SealingJSONTranscoder
from adapters.store.token_usage import InMemoryTokenUsage, PostgresTokenUsage
from adapters.store.transcoding import register_domain_transcodings
from services.casefiles import CaseFiles
from services.ports import PersonKeyStore


class StoredCaseFiles(CaseFiles):
    """services.casefiles.CaseFiles on this project's store."""

    name = CaseFiles.name

    def __init__(self, env: dict | None = None):
        super().__init__(env)
        self.person_keys.store = self.construct_person_key_store()
        self.token_usage = (InMemoryTokenUsage() if isinstance(self.factory, POPOFactory)
                            else PostgresTokenUsage(self.recorder))
        master = self.env.get("CIPHER_KEY")
        self.documents = (InMemoryDocuments() if isinstance(self.factory, POPOFactory)
                          else PostgresDocuments(self.recorder,
                                                 base64.b64decode(master) if master else None))
        self.write_listener: WriteListener | None = None
        if self.command_cache is not None and isinstance(self.recorder, CaseFileRecorder):
            # other processes write too: their NOTIFYs keep the command cache true
            self.write_listener = WriteListener(self.env, self.recorder.channel_name,
                                                self.recorder.writer, self.command_cache)
            self.command_cache.watcher = self.write_listener.start
            self.command_cache.watched = False

    def close(self) -> None:
        if self.write_listener is not None:
            self.write_listener.stop()
        held = getattr(self.recorder, "held_connection", None)
        if held is not None:
            held.release()
        super().close()

    def construct_transcoder(self) -> SealingJSONTranscoder:
        master = self.env.get("CIPHER_KEY")
        self.person_keys = PersonKeyRing(
            base64.b64decode(master) if master else None,
            ttl=float(self.env.get("PERSON_KEY_CACHE_SECONDS", "10")))
        transcoder = SealingJSONTranscoder(self.person_keys)
        self.register_transcodings(transcoder)
        return transcoder

    def construct_mapper(self) -> RowBoundMapper:
        mapper = self.factory.mapper(transcoder=self.construct_transcoder(),
                                     mapper_class=RowBoundMapper)
        mapper.legacy_reads = strtobool(self.env.get("CIPHER_LEGACY_READS", "yes"))
        return mapper

    def construct_person_key_store(self) -> PersonKeyStore:
        """The key table beside the events: PERSON_KEYS_TOPIC, by default PostgreSQL's
        (adapters.store.person_keys) or, for the in-memory store, adapters.store.memory's."""
        topic = self.env.get("PERSON_KEYS_TOPIC")
        if topic:
            return resolve_topic(topic)(self.recorder)
        if isinstance(self.factory, POPOFactory):
            return InMemoryPersonKeys(self.recorder)
        return PostgresPersonKeys(self.recorder)

    def construct_recorder(self):
        """The recorder by APPLICATION_RECORDER_TOPIC; PostgreSQL's commits concurrent
        saves together unless GROUP_COMMIT=no (adapters.store.group_commit)."""
        topic = self.env.get("APPLICATION_RECORDER_TOPIC")
        if topic and isinstance(self.factory, POPOFactory):
            return resolve_topic(topic)()
        recorder = super().construct_recorder()
        if isinstance(recorder, CaseFileRecorder):
            recorder.group_commit = strtobool(self.env.get("GROUP_COMMIT", "yes"))
        return recorder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def _snapshot_versions(self, org_id: UUID) -> list[int]:
        """The versions of the organization's snapshots, oldest first (no state read)."""
        recorder = self.snapshots.recorder
        if not hasattr(recorder, "datastore"):  # the in-memory store
            return super()._snapshot_versions(org_id)
        statement = SQL("SELECT originator_version FROM {0}.{1} WHERE originator_id = %s "
                        "ORDER BY originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (org_id,), prepare=True)
            return [row["originator_version"] for row in curs.fetchall()]
