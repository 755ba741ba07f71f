"""Throughput, latency and memory benchmarks; ``eldercare bench`` runs ``benchmarks.bench``."""
