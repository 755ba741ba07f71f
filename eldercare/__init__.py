"""eldercare: the shared contract (models, topics, settings, clock) every service builds on."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eldercare")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
