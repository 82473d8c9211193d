"""A supervisor's liveness probe for a Celery worker (portal.celery.LivenessFile):

    python -m portal.liveness /run/portal/worker.alive --max-age 30

exits 0 when the file was touched less than --max-age seconds ago, 1 otherwise (or
when it is missing), with one line on stderr. It imports neither Django nor Celery, so
it costs a few milliseconds."""

import argparse
import os
import sys
import time


def age(path):
    """Seconds since `path` was last touched, or None when it does not exist."""
    try:
        return max(0.0, time.time() - os.stat(path).st_mtime)
    except FileNotFoundError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m portal.liveness",
                                     description="Is this Celery worker alive and consuming?")
    parser.add_argument("path", help="the worker's WORKER_LIVENESS_FILE")
    parser.add_argument("--max-age", type=float, default=30.0,
                        help="seconds (default 30; keep it above 3 x WORKER_LIVENESS_INTERVAL)")
    options = parser.parse_args(argv)
    seconds = age(options.path)
    if seconds is None:
        print(f"{options.path}: missing", file=sys.stderr)
        return 1
    if seconds > options.max_age:
        print(f"{options.path}: not touched for {seconds:.0f} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
