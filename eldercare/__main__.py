"""``python -m eldercare`` is the same as the ``eldercare`` command."""

from eldercare.cli import app

app()
