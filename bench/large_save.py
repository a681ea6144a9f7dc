"""Reproduce a finding of the benchmarks: one save whose stored events add up to more than
about 500 KiB never returns. ``python -m bench.large_save [N ...]``

The application recorder inserts a save's events in psycopg's pipeline mode
(eventsourcing's ``PostgresApplicationRecorder.insert_events``); with a large enough
parameter the client waits in ``Pipeline.sync`` while the server waits in ``ClientRead``
(pg_stat_activity), for ever. Observed with psycopg 3.3.9 (binary, libpq 18) over the
embedded server's Unix socket: 1,200 events of 400 bytes (468 KiB) in one save pass,
1,300 (507 KiB) hang. ``adapters.seed.demo.generate`` with many years of history (e.g.
``--years 20``, 40 organizations a save) runs into it.

Each attempt runs in a thread with a 20 s bound; the first hang ends the process."""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
import warnings


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresProcessRecorder

    from bench.common import app_env, configure_process, database_url, fresh_schema
    from adapters.bootstrap import build_casefiles

    # the library's own (pipelined) method: CaseFileRecorder.insert_events avoids the stall
    library_insert = PostgresProcessRecorder.insert_events
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [
        500, 1000, 1200, 1300, 2000]
    url = database_url()
    configure_process(url)
    with fresh_schema(url, "largesave") as schema:
        casefiles = build_casefiles(env=app_env(schema))
        for n in sizes:
            originator = uuid.uuid4()
            events = [StoredEvent(originator_id=originator, originator_version=i + 1,
                                  topic="bench:Event", state=os.urandom(400))
                      for i in range(n)]
            done: list = []
            thread = threading.Thread(
                target=lambda: done.append(library_insert(casefiles.recorder, events)),
                daemon=True)
            started = time.monotonic()
            thread.start()
            thread.join(20)
            size = n * 400 // 1024
            if done:
                print(f"{n:6} events, {size:5} KiB in one save: "
                      f"{time.monotonic() - started:.2f} s", flush=True)
            else:
                print(f"{n:6} events, {size:5} KiB in one save: no answer after 20 s (hung)",
                      flush=True)
                os._exit(1)  # the stuck connection cannot be closed cleanly
        casefiles.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
