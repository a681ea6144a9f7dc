"""Benchmarks of the case-file service (issue 8): ``python -m bench.run [--quick]``.

Each benchmark prints its figure next to a ceiling measured in the same run on the same
machine (raw psycopg, a trivial HTTP endpoint, the raw Kafka producer...) and the ratio;
see docs/BENCHMARKS.md for the figures and what they mean.
"""
