"""``python -m eldercare`` is the same as the ``eldercare`` command."""

from eldercare.app.cli import app

app()
