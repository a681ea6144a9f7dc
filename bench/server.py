"""Run the benchmarks' WSGI app (bench.wsgi) under the production server
(adapters.web.server): ``python -m bench.server --port P [--workers N] [--threads T]``. The
database, schema and keys come from the environment (DATABASE_URL, POSTGRES_SCHEMA,
CIPHER_KEY, PSEUDONYM_KEY), set by the benchmark that starts it."""

from __future__ import annotations

import argparse
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="platformdirs")
    from adapters.web.server import serve

    serve(args.host, args.port, args.workers, args.threads,
          app_factory="bench.wsgi:create_bench_app", loglevel="warning")


if __name__ == "__main__":
    main()
