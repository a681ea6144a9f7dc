"""The sign-in controls' figures (issue 15; docs/RELIABILITY.md, the security table):

- the answer time of a wrong password for a known and for an unknown username, over N
  tries each, alternating (the ratio of the medians should be near 1: no enumeration
  by timing);
- how many wrong passwords one account, and one address, gets through before the
  throttle answers 429, with the default settings, as fast as a client can send them,
  and how long it is then told to wait (Retry-After);
- how many of a burst of guesses at one account lock it, and for how long.

It drives the real sign-in form (its CSRF token, the PostgreSQL-backed limits) through
Flask's test client, on a fresh schema.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import date

from bench.common import Context, Row, app_env, fresh_schema

PASSWORD = "correct horse battery"


def _token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)


def _attempt(client, username: str, password: str, address: str):
    return client.post("/signin", data={"csrf_token": _token(client), "username": username,
                                        "password": password},
                       environ_base={"REMOTE_ADDR": address})


def run(ctx: Context) -> list[Row]:
    from adapters.bootstrap import build_casefiles
    from adapters.web import close_app, create_app
    from domain.meta import Meta

    tries = ctx.size(20, 100)
    rows: list[Row] = []
    with fresh_schema(ctx.url, "signin") as schema:
        app = build_casefiles(env=app_env(schema))
        meta = Meta(actor_id="bench", actor_role="admin", effective_date=date.today(),
                    correlation_id="bench")
        for name in ("known", "spare"):
            app.open_account(username=name, password=PASSWORD, display_name=name,
                             role="auditor", jurisdiction=None, organization=None, meta=meta)
        generous = {"SIGNIN_ACCOUNT_LIMITS": "100000 per minute",
                    "SIGNIN_ADDRESS_LIMITS": "100000 per minute",
                    "SIGNIN_LOCKOUT_AFTER": "100000 per hour"}
        web = create_app({"CASEFILES": app, **generous})
        try:
            client = web.test_client()
            known, unknown = [], []
            for n in range(tries):
                for username, times in (("known", known), (f"nobody{n}", unknown)):
                    token = _token(client)
                    started = time.perf_counter()
                    answer = client.post("/signin", data={"csrf_token": token,
                                                          "username": username,
                                                          "password": "wrong guess"},
                                         environ_base={"REMOTE_ADDR": f"10.1.{n % 250}.1"})
                    times.append(time.perf_counter() - started)
                    assert answer.status_code == 401
            k, u = statistics.median(known) * 1000, statistics.median(unknown) * 1000
            rows.append(Row("sign-in answer: unknown vs known", f"{u:.1f} vs {k:.1f} ms",
                            note=f"median of {tries} wrong passwords each, alternating; "
                                 f"p90 {statistics.quantiles(unknown, n=10)[-1] * 1000:.1f} vs "
                                 f"{statistics.quantiles(known, n=10)[-1] * 1000:.1f} ms",
                            ratio=u / k, data={"unknown_ms": u, "known_ms": k}))
        finally:
            close_app(web)
        web = create_app({"CASEFILES": app})  # the defaults
        try:
            client = web.test_client()
            passed = 0
            while True:
                answer = _attempt(client, "known", "wrong guess", "10.2.0.1")
                if answer.status_code == 429:
                    break
                passed += 1
            wait = int(answer.headers["Retry-After"])
            events = [type(e).__name__ for e in app.events.get(
                app.get_account("known").id)]
            locked = app.get_account("known").locked_until
            lock = (f"locked until {locked:%H:%M} UTC" if "LockedOut" in events and locked
                    else "not locked")
            rows.append(Row("guesses at one account", f"{passed} then 429",
                            note=f"defaults, as fast as possible: then Retry-After {wait} s; "
                                 f"{lock}", data={"guesses": passed, "retry_after": wait}))
            spray = 0
            while True:
                answer = _attempt(client, f"user{spray}", "wrong guess", "10.3.0.1")
                if answer.status_code == 429:
                    break
                spray += 1
            rows.append(Row("guesses from one address", f"{spray} then 429",
                            note=f"one per username (password spraying): then Retry-After "
                                 f"{answer.headers['Retry-After']} s",
                            data={"guesses": spray}))
        finally:
            close_app(web)
        app.close()
    return rows
