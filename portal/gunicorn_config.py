"""Gunicorn's settings for the Procfile's `web` process (`gunicorn -c portal/gunicorn_config.py`).

Its runtime files live in this checkout's var/ (PORTAL_VAR_DIR, as the settings read it,
`.env` included), never in a place shared by every gunicorn of the machine: since
gunicorn 25.1 the control socket defaults to $XDG_RUNTIME_DIR/gunicorn.ctl or
~/.gunicorn/gunicorn.ctl, so two checkouts served at once took each other's socket and
the first to stop removed the other's. Command-line options and GUNICORN_CMD_ARGS win
over this file (two web processes on one var/: give each its own --control-socket and
--pid)."""

import importlib
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
_var_dir = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"]).VAR_DIR
_var_dir.mkdir(parents=True, exist_ok=True)

control_socket = str(_var_dir / "gunicorn.ctl")
pidfile = str(_var_dir / "gunicorn.pid")
