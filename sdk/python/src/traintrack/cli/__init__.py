"""The ``traintrack`` command line, installed with the SDK; ``python -m traintrack.cli`` runs it too."""

from .main import main, run

__all__ = ["main", "run"]
