"""A local Kafka 0.9.0.1 broker (and ZooKeeper) for tests, run by scripts/kafka.sh.

The test broker has its own ports and folder, so it does not clash with `make kafka`:
TEST_KAFKA_PORT (default 19092), TEST_ZOOKEEPER_PORT (12181), TEST_KAFKA_VAR (var/kafka-test).
With TEST_KAFKA_BOOTSTRAP=host:port the tests use that broker instead and start or stop nothing
(kill_broker/start_broker then raise ExternalBrokerError).

``LocalKafka(brokers=3, ...)`` is a cluster: brokers 0, 1, 2 on ``port``, ``port + 1``, ``port + 2``
sharing one ZooKeeper (``scripts/kafka.sh`` with KAFKA_BROKERS); ``kill_broker(n)`` and
``start_broker(n)`` act on one of them, ``topics(...)`` runs Kafka's kafka-topics.sh on its ZooKeeper.

Clients must pin the protocol: kafka-python `api_version=(0, 9)`.

One broker per folder is shared by every LocalKafka (a session fixture in conftest.py, a module
fixture in a test file) and by concurrent pytest processes: a start() that finds no other user
(in any process, tracked with a shared flock on <folder>/.users.lock) first deletes what an
earlier run left; a stop() stops the broker only if no other user remains. Note that kill_broker()
also interrupts any other process using the broker at the time.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import subprocess
from pathlib import Path
from typing import IO, Iterator

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "kafka.sh"
API_VERSION = (0, 9)

# var folder -> (start() calls in this process not yet matched by stop(), the .users.lock file
# this process holds a shared lock on while it uses the broker)
_users: dict[Path, tuple[int, IO]] = {}
_brokers: dict[Path, int] = {}  # var folder -> its number of brokers


class KafkaScriptError(RuntimeError):
    """scripts/kafka.sh failed; the message carries its output."""


class ExternalBrokerError(RuntimeError):
    """An operation that needs the local broker, asked of an external one (TEST_KAFKA_BOOTSTRAP)."""


class LocalKafka:
    def __init__(self, port: int | None = None, zookeeper_port: int | None = None,
                 var: str | os.PathLike | None = None, partitions: int = 3,
                 timeout: float = 120.0, brokers: int = 1) -> None:
        self.external = os.environ.get("TEST_KAFKA_BOOTSTRAP") or None
        self.port = int(port or os.environ.get("TEST_KAFKA_PORT", "19092"))
        self.zookeeper_port = int(zookeeper_port or os.environ.get("TEST_ZOOKEEPER_PORT", "12181"))
        self.var = Path(var or os.environ.get("TEST_KAFKA_VAR", "var/kafka-test"))
        if not self.var.is_absolute():
            self.var = ROOT / self.var
        self.partitions = partitions
        self.timeout = timeout
        self.brokers = brokers

    @property
    def bootstrap(self) -> str:
        """host:port[,host:port...] for bootstrap_servers."""
        return self.external or ",".join(f"127.0.0.1:{self.port + n}"
                                         for n in range(self.brokers))

    @property
    def is_external(self) -> bool:
        return self.external is not None

    def start(self, fresh: bool = True) -> str:
        """Start ZooKeeper and the broker, or join the running one (restarting the broker if it
        was killed); returns the bootstrap address once the broker accepts connections.
        fresh: if nobody else uses the broker, first stop it and delete the data an earlier run
        left, so the run begins empty."""
        if self.is_external:
            return self.bootstrap
        with self._mutex():
            count, users = _users.get(self.var, (0, None))
            if users is None:
                users = open(self.var / ".users.lock", "a")
                if fresh and _try_flock(users, fcntl.LOCK_EX):
                    try:
                        self._script("clean")
                    except BaseException:
                        users.close()
                        raise
                # while we hold the mutex nobody else can take the exclusive lock
                fcntl.flock(users, fcntl.LOCK_SH)
            try:
                self._script("start")
            except BaseException:
                if count == 0:
                    users.close()
                raise
            _users[self.var] = (count + 1, users)
            _brokers[self.var] = self.brokers
        return self.bootstrap

    def stop(self) -> None:
        """Stop ZooKeeper and the broker, unless another start() (in this or another process)
        still uses them."""
        if self.is_external:
            return
        with self._mutex():
            count, users = _users.get(self.var, (0, None))
            if count > 1:
                _users[self.var] = (count - 1, users)
                return
            _users.pop(self.var, None)
            if users is None:  # stop() without start(): stop if nobody uses it
                users = open(self.var / ".users.lock", "a")
            try:
                fcntl.flock(users, fcntl.LOCK_UN)
                if _try_flock(users, fcntl.LOCK_EX):
                    self._script("stop")
            finally:
                users.close()

    @contextlib.contextmanager
    def _mutex(self) -> Iterator[None]:
        """Start and stop decisions, one process at a time."""
        self.var.mkdir(parents=True, exist_ok=True)
        with open(self.var / ".mutex.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def kill_broker(self, broker: int = 0) -> None:
        """SIGKILL a broker (ZooKeeper stays up)."""
        self._local_only("kill_broker")
        self._script("kill-broker", str(broker))

    def start_broker(self, broker: int = 0) -> None:
        """Start a broker again; returns once it accepts connections (after a kill_broker this
        includes ZooKeeper expiring the old session, about 6 s)."""
        self._local_only("start_broker")
        try:
            self._script("start-broker", str(broker))
        except KafkaScriptError:
            # Kafka 0.9 exits when it comes up before ZooKeeper has fully dropped the
            # killed broker's registration (seen on a loaded machine): once more
            import time

            time.sleep(5)
            self._script("start-broker", str(broker))

    def topics(self, *args: str) -> str:
        """Kafka's kafka-topics.sh on this ZooKeeper (``--create ...``, ``--describe ...``);
        its output."""
        self._local_only("topics")
        return self._script("topics", *args).stdout

    def partitions_of(self, topic: str) -> dict[int, tuple[int, list[int]]]:
        """Each partition's leader (-1: none) and in-sync replicas, as ZooKeeper has them."""
        found = {}
        for line in self.topics("--describe", "--topic", topic).splitlines():
            fields = dict(part.split(": ", 1) for part in line.strip().split("\t")
                          if ": " in part)
            if "Partition" in fields:
                isr = [int(b) for b in fields.get("Isr", "").split(",") if b]
                found[int(fields["Partition"])] = (int(fields["Leader"]), isr)
        return found

    def status(self) -> bool:
        if self.is_external:
            return True
        return self._script("status", check=False).returncode == 0

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _local_only(self, what: str) -> None:
        if self.is_external:
            raise ExternalBrokerError(
                f"LocalKafka.{what}() needs the local test broker, but TEST_KAFKA_BOOTSTRAP="
                f"{self.external} names an external one; unset it to run fault tests")

    def _script(self, command: str, *args: str, check: bool = True
                ) -> subprocess.CompletedProcess:
        env = dict(os.environ, KAFKA_PORT=str(self.port), ZOOKEEPER_PORT=str(self.zookeeper_port),
                   KAFKA_VAR=str(self.var), KAFKA_NUM_PARTITIONS=str(self.partitions),
                   KAFKA_BROKERS=str(self.brokers))
        try:
            result = subprocess.run(["bash", str(SCRIPT), command, *args], cwd=ROOT, env=env,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=self.timeout)
        except subprocess.TimeoutExpired as e:
            output = "".join(o.decode(errors="replace") if isinstance(o, bytes) else o
                             for o in (e.stdout, e.stderr) if o)
            raise KafkaScriptError(f"scripts/kafka.sh {command} timed out after {self.timeout}s\n"
                                   f"{output}") from None
        if check and result.returncode != 0:
            raise KafkaScriptError(f"scripts/kafka.sh {command} failed (exit {result.returncode}):\n"
                                   f"{result.stdout}{result.stderr}")
        return result


def _try_flock(f: IO, operation: int) -> bool:
    try:
        fcntl.flock(f, operation | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@atexit.register
def _stop_forgotten() -> None:
    """Do not leave Java processes behind when a start() was never matched by a stop()."""
    for var in list(_users):
        _users[var] = (1, _users[var][1])  # this process's last user: stop() stops unless others use it
        with contextlib.suppress(Exception):
            LocalKafka(var=var, brokers=_brokers.get(var, 1)).stop()
