"""``python -m traintrack.cli``."""

from .main import run

run()
