"""5. Kafka outage and relay crash, repeated with random timing.

Interviews are recorded continuously (in this process) on several organizations while
`casefile relay` runs as a subprocess (batches of 100) against the fault scripts' own
Kafka 0.9.0.1 broker (127.0.0.1:49092, ZooKeeper 42181, var/kafka-faults). At random
moments the relay is SIGKILLed and restarted, or the broker is SIGKILLed and started
again a few seconds later (the relay is left to find it by itself).

Must hold: commands never fail because of Kafka; at the end the relay's lag is 0, every
recorded organization or person event is on the topic (an independent consumer reads
it all), nothing else is, and each organization's events arrive in version order (first
deliveries; re-published duplicates after a crash are allowed and counted); the example
consumer (adapters.kafka.consumer) sees no gap.

    python -m tests.faults.kafka_faults --quick     # ~40 s: 2 relay kills, 1 broker kill
    python -m tests.faults.kafka_faults             # ~2.5 min: random mix for 120 s
"""

from __future__ import annotations

import collections
import random
import sys
import threading
import time

from tests.faults.common import (ROOT, Checks, PgCluster, Process, arguments, casefiles,
                                 check_stream, environment, local_kafka, published_ids,
                                 read_topic, register_organizations, say, wait_for)


def writer(stop: threading.Event, seed: int, organizations: list[str], done: list[int],
           errors: list[str]) -> None:
    from tests.conftest import meta

    rng = random.Random(seed)
    app = casefiles()
    try:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                app.execute(rng.choice(organizations), "interview", meta=meta("2024-03-01"),
                            person_name=f"负责人{n}", person_role="理事长", topics=["t"])
                done.append(n)
            except Exception as e:  # commands must not depend on Kafka
                errors.append(f"{type(e).__name__}: {e}")
            time.sleep(rng.uniform(0, 0.01))
    finally:
        app.close()


def main() -> int:
    args = arguments(__doc__.splitlines()[0], seconds=0.0)
    seconds = args.seconds or (30.0 if args.quick else 120.0)
    rng = random.Random(args.seed)
    checks = Checks("kafka_faults")
    say(f"seed {args.seed}; faults for {seconds:.0f}s")
    cluster = PgCluster("kafka").start()
    url = cluster.fresh_database("faults_kafka")
    say("starting the fault scripts' Kafka (127.0.0.1:49092)")
    kafka = local_kafka()
    topic = f"faults.kafka.{args.seed}"
    env = environment("kafka", url, KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
                      KAFKA_API_VERSION="0.9", KAFKA_TOPIC=topic, KAFKA_BATCH="100")
    from adapters.config import application_env
    from adapters.kafka.relay import relay_status

    app_env = application_env()
    organizations = register_organizations(8)
    stop = threading.Event()
    done: list[int] = []
    errors: list[str] = []
    writing = threading.Thread(target=writer, args=(stop, args.seed, organizations, done,
                                                     errors), daemon=True)
    writing.start()
    relay = Process("casefile relay", ["relay"], env,
                    ROOT / "var" / "faults-kafka" / "relay.log").start()
    faults: collections.Counter = collections.Counter()
    plan = ["relay", "broker", "relay"] if args.quick else None
    started = time.monotonic()
    while time.monotonic() - started < seconds and (plan is None or plan):
        time.sleep(rng.uniform(1.0, 5.0))
        kind = plan.pop(0) if plan else rng.choices(["relay", "broker"], [7, 3])[0]
        position = relay_status(app_env)["position"]
        if kind == "relay":
            relay.sigkill()
            faults["relay SIGKILL"] += 1
            pause = rng.uniform(0, 2.0)
            say(f"SIGKILLed the relay at position {position}; restarting in {pause:.1f}s")
            time.sleep(pause)
            relay.start()
        else:
            kafka.kill_broker()
            faults["broker SIGKILL"] += 1
            down = rng.uniform(1.0, 6.0)
            say(f"SIGKILLed the broker (relay at {position}); starting it in {down:.1f}s")
            time.sleep(down)
            kafka.start_broker()
            say("broker back")
    stop.set()
    writing.join(timeout=60)
    say(f"writer stopped after {len(done)} commands")
    checks.check(not errors, f"{len(errors)} commands failed: {errors[:3]}")
    if not relay.alive():
        checks.check(False, "the relay process exited by itself")
        relay.start()
    relayed = wait_for(lambda: relay_status(app_env)["lag"] == 0, 240)
    checks.check(relayed, f"the relay did not catch up: {relay_status(app_env)}")
    relay.terminate()
    app = casefiles()
    expected = published_ids(app)
    app.close()
    messages = read_topic(kafka.bootstrap, topic, set(expected), timeout=120)
    checks.figure("faults injected", dict(faults))
    checks.figure("commands recorded while faults were injected", len(done))
    checks.figure("stream", check_stream(messages, expected, checks))
    from adapters.kafka.consumer import consume
    from tests.kafka_broker import API_VERSION

    stats = consume(bootstrap_servers=kafka.bootstrap, topic=topic, group="faults-consumer",
                    db_path=":memory:", api_version=API_VERSION, idle_timeout=5)
    checks.figure("example consumer: processed / duplicates dropped / gaps",
                  f"{stats.processed} / {stats.duplicates} / {stats.gaps}")
    checks.check(stats.processed == len(expected),
                 f"the example consumer processed {stats.processed} of {len(expected)}")
    checks.check(stats.gaps == 0, f"the example consumer saw {stats.gaps} gaps")
    kafka.stop()
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
