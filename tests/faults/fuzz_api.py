"""7b. Hostile input generated from the OpenAPI document (Schemathesis).

Every operation of /openapi.json is called with bodies, paths and query strings that
Schemathesis generates from the schema, valid and invalid ("positive" and "negative"
data), as a registration-staff account, against the application in this process (WSGI,
no network) on a private PostgreSQL with a few organizations recorded.

Must hold: no answer is a server error (5xx). Every distinct failure is printed once
(operation, status, the first request that caused it).

    python -m tests.faults.fuzz_api --quick      # 8 examples per operation and mode
    python -m tests.faults.fuzz_api              # 60 (bounded by --budget, 170 s)
"""

from __future__ import annotations

import collections
import sys
import time

from tests.faults.common import (Checks, PgCluster, arguments, casefiles, environment,
                                 open_accounts, register_organizations, say)


def main() -> int:
    args = arguments(__doc__.splitlines()[0], examples=0, budget=0.0)
    examples = args.examples or (8 if args.quick else 60)
    budget = args.budget or (90.0 if args.quick else 170.0)
    checks = Checks("fuzz_api")
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    cluster = PgCluster("fuzz").start()
    url = cluster.fresh_database("faults_fuzz")
    environment("fuzz", url)
    tokens = open_accounts()
    organizations = register_organizations(3)
    import logging

    logging.getLogger("adapters").setLevel(logging.ERROR)  # the denials it provokes
    from adapters.web import close_app, create_app

    from adapters.runtime.worker import Worker

    app = casefiles()
    worker = Worker(dict(app.env), run_rules=False).start()  # reads wait for fresh views
    web = create_app({"CASEFILES": app})
    web.config["PROPAGATE_EXCEPTIONS"] = False
    schema = schemathesis.openapi.from_wsgi("/openapi.json", web)
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    failures: dict[tuple[str, str], str] = {}
    statuses: collections.Counter = collections.Counter()
    calls = 0
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    say(f"{len(operations)} operations, {examples} examples each, seed {args.seed}")
    variants = []
    for operation in operations:
        variants.append((operation, "positive", operation.as_strategy(GenerationMode.POSITIVE)))
        variants.append((operation, "negative", operation.as_strategy(GenerationMode.NEGATIVE)))
        if "{code}" in operation.path:  # the same on an organization that exists
            variants.append((operation, "positive, known code", operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters={"code": organizations[0]})))
    ran = 0
    for operation, mode, strategy in variants:
        if time.monotonic() - started > budget:
            say("time budget spent; stopping")
            break
        ran += 1

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def call(case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers=headers)
            statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 500:
                key = (operation.label, str(response.status_code))
                if key not in failures:
                    failures[key] = (f"[{mode}] {case.method} {case.formatted_path} "
                                     f"query={case.query} body={str(case.body)[:200]!r}")

        try:
            call()
        except Exception as e:  # generation problems of one operation: reported, go on
            if type(e).__name__ != "Unsatisfiable":  # nothing to make invalid (no inputs)
                failures[(operation.label, f"generation ({mode})")] = \
                    f"{type(e).__name__}: {e}"[:300]
    close_app(web)
    worker.stop()
    app.close()
    checks.figure("operations / variants run of all / calls",
                  f"{len(operations)} / {ran} of {len(variants)} / {calls}")
    checks.figure("answers by class", {f"{k // 100}xx": v for k, v in sorted(statuses.items())})
    server_errors = {k: v for k, v in failures.items() if not k[1].startswith("generation")}
    for (label, status), example in sorted(failures.items()):
        say(f"{label} -> {status}: {example}")
    checks.check(not server_errors, f"{len(server_errors)} operations answered 5xx: "
                                    f"{sorted(k[0] for k in server_errors)}")
    cluster.stop()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
