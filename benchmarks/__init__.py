"""Benchmarks: `python -m benchmarks.run` (checker speed and PII recall against vanilla Presidio), and others."""
