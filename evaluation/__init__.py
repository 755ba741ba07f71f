"""Offline lab code: training and evaluating detectors on recorded data sets, kept out of the
runtime packages (a service never imports it). Above the services in the layers
(``pyproject.toml``): it may read any detector internals it measures."""
