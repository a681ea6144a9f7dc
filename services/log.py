"""Reading the recorded event log: the one pager. The rules engine, the catch-up, the
rebuild, the Kafka relay and the audit verifier all read the log through it, a page of
notifications at a time, each page decoded in one go where the store's mapper can
(adapters.store.mapper fetches the page's person keys in one query)."""

from __future__ import annotations

from typing import Any, Iterator

from eventsourcing.application import Application

Page = list[tuple[Any, int]]  # (domain event, position), in the log's order


def recorded_pages(app: Application, position: int = 0, head: int | None = None,
                   batch: int = 500, *, keep_errors: bool = False) -> Iterator[Page]:
    """The recorded events after ``position`` up to ``head`` (None: as far as the log
    goes at each read), a page of at most ``batch`` at a time, each as (domain event,
    position). An event that cannot be decoded raises, or with ``keep_errors`` comes as
    (None, position) (altered in the store: the audit verifier names it and goes on)."""
    while head is None or position < head:
        notifications = app.recorder.select_notifications(start=position + 1, limit=batch,
                                                          stop=head)
        if not notifications:
            return
        events = decode_page(app.mapper, notifications, keep_errors)
        if keep_errors:
            events = [None if isinstance(e, Exception) else e for e in events]
        yield list(zip(events, (n.id for n in notifications)))
        position = notifications[-1].id


def recorded_events(app: Application, up_to: int, batch: int = 1000, *,
                    after: int = 0) -> Iterator[tuple[Any, int]]:
    """Every recorded event after a position up to another, one at a time, as (domain
    event or None, position): what the audit verifier compares the trail with."""
    for page in recorded_pages(app, after, up_to, batch, keep_errors=True):
        yield from page


def decode_page(mapper: Any, notifications: list, keep_errors: bool) -> list:
    """A page decoded by the mapper in one go (``to_domain_events``) where it can, else
    event by event as the library's mapper does."""
    many = getattr(mapper, "to_domain_events", None)
    if many is not None:
        return many(notifications, keep_errors=keep_errors)
    events: list = []
    for notification in notifications:
        try:
            events.append(mapper.to_domain_event(notification))
        except Exception as e:
            if not keep_errors:
                raise
            events.append(e)
    return events
