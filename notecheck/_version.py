"""The checker version written into every report (CONTRACT §2 `checker_version`)."""

__version__ = "0.3.0"
