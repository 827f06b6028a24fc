"""Bulk-scan tests: helpers live in scan_support.py (imported by name, as pytest puts this directory on sys.path)."""
