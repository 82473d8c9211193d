"""Caching that a cache outage cannot break: a page is slower without the cache, never
an error."""

import logging

from django.core.cache import cache

log = logging.getLogger(__name__)


def cached(key, produce, *, timeout):
    """The value stored under `key`, or `produce()`'s, stored for `timeout` seconds.
    `timeout` 0 turns the cache off. When the cache server fails, the value is produced
    and the failure logged."""
    if not timeout:
        return produce()
    try:
        value = cache.get(key)
    except Exception:  # the backend's own errors (redis, OS) have no common base class
        log.warning("Cache read failed for %s", key, exc_info=True)
        return produce()
    if value is None:
        value = produce()
        try:
            cache.set(key, value, timeout)
        except Exception:
            log.warning("Cache write failed for %s", key, exc_info=True)
    return value
