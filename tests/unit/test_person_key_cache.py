"""The person key cache stays bounded during a long replay: expired keys are dropped once
it is large, and a key still fresh is kept (services.casefiles.PersonKeyRing)."""

from __future__ import annotations

import os

from adapters.store.memory import InMemoryPersonKeys
from adapters.store.sealing import PersonKeyRing


def ring(ttl: float) -> PersonKeyRing:
    keys = PersonKeyRing(os.urandom(32), ttl=ttl)
    keys.store = InMemoryPersonKeys()
    keys.CACHE_SWEEP_AT = keys._sweep_at = 10
    return keys


def test_expired_keys_are_dropped_once_the_cache_is_large():
    keys = ring(ttl=0.0)  # everything expires at once
    for n in range(100):
        assert keys.aead(f"p{n}", create=True) is not None
    assert len(keys._cache) <= 11
    keys.prefetch(f"p{n}" for n in range(100))  # a page: its keys are all kept
    assert len(keys._cache) == 100
    keys.prefetch(["p1", "p2"])  # the next page sweeps the expired ones
    assert len(keys._cache) == 2
    assert keys.aead("p3") is not None  # a dropped key is fetched again


def test_fresh_keys_are_kept_and_the_sweep_backs_off():
    keys = ring(ttl=3600.0)
    keys.ensure(f"p{n}" for n in range(100))
    assert keys.aead("p100", create=True) is not None  # a sweep finds nothing expired
    assert len(keys._cache) == 101 and keys._sweep_at >= 200  # and backs off
    sealed = keys.aead("p7")
    assert sealed is keys.aead("p7")  # from the cache, not a new cipher
