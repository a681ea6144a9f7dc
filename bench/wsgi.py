"""The benchmarks' WSGI app: the real application (``adapters.web.create_app()``, built
in each gunicorn worker) with a trivial JSON endpoint, ``/bench/ping``, mounted beside it
by werkzeug's DispatcherMiddleware. The endpoint is the HTTP ceiling: same server, same
workers and threads, same JSON serialization, no authentication and no database."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.middleware.dispatcher import DispatcherMiddleware


def create_ping_app() -> Flask:
    ping = Flask("bench_ping")

    @ping.get("/ping")
    def ping_view():
        return jsonify({"status": "ok"})

    return ping


def create_bench_app() -> DispatcherMiddleware:
    from adapters.web import create_app

    return DispatcherMiddleware(create_app(), {"/bench": create_ping_app()})
