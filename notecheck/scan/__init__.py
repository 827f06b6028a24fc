"""Bulk scans of historical notes (issue 5). Placeholder until the scanner lands."""
