"""Run every fault script, one after the other, and exit non-zero if any failed.

    python -m tests.faults.run_all --quick          # what CI runs (~6 min on 2 cores)
    python -m tests.faults.run_all                  # the fuller runs (~15 min)
    python -m tests.faults.run_all --quick durability kafka_faults   # some of them

The fuller runs take the soak for 3 minutes; its 10-minute form runs by itself
(``python -m tests.faults.soak``).
"""

from __future__ import annotations

import subprocess
import sys
import time

from tests.faults.common import PYTHON, ROOT

SCRIPTS = ["durability", "db_outage", "worker_crash", "kafka_faults", "fuzz_api", "soak"]
FULL_ARGS = {"soak": ["--minutes", "3"]}  # arguments of the fuller run, beside the default


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    chosen = [a for a in sys.argv[1:] if not a.startswith("-")] or SCRIPTS
    results = {}
    for name in chosen:
        started = time.monotonic()
        print(f"\n######## tests.faults.{name} {'--quick' if quick else ''}", flush=True)
        code = subprocess.call([PYTHON, "-m", f"tests.faults.{name}",
                                *(["--quick"] if quick else FULL_ARGS.get(name, []))],
                               cwd=ROOT)
        results[name] = (code, time.monotonic() - started)
    print("\n######## summary")
    for name, (code, seconds) in results.items():
        print(f"  {name:14} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:6.0f}s")
    return 0 if all(code == 0 for code, _ in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
