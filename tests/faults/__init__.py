"""Fault-injection scripts (issue 7): each is `python -m tests.faults.NAME [--quick]`,
prints what it injected and measured, and exits 1 on a violated guarantee. They start
their own PostgreSQL (var/faults-pg/NAME), services and, where needed, Kafka
(var/kafka-faults, ports 49092/42181). See docs/RELIABILITY.md."""
