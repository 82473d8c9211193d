"""Fixed-window rate limits kept in the cache (shared by every process)."""

import time

from django.core.cache import cache


def rate_limit_hit(key, *, limit, window):
    """Count one attempt for `key`. Returns (allowed, seconds until the window ends).
    Attempts past `limit` in `window` seconds are refused; nothing is ever locked for
    longer than the window."""
    now = int(time.time())
    bucket = now // window
    cache_key = f"ratelimit:{key}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    retry_after = (bucket + 1) * window - now
    return count <= limit, retry_after


def rate_limit_undo(key, *, window):
    """Take back one attempt counted by rate_limit_hit in the current window (for limits
    that count failures only: count first, so that attempts at once cannot slip past the
    limit, then take back the ones that succeeded)."""
    cache_key = f"ratelimit:{key}:{int(time.time()) // window}"
    try:
        if cache.decr(cache_key) < 0:
            cache.set(cache_key, 0, timeout=window + 1)
    except ValueError:  # the window ended meanwhile: nothing left to take back
        pass
