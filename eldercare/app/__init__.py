"""The composition root: the ``eldercare`` command, the runtime that starts services, the demo.

The only part of the code base that imports every service (import-linter checks it); the
rest of ``eldercare/`` is the contract the services build on and imports none of them.
"""
