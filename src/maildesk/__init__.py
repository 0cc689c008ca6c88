"""maildesk: an email-first incident assistant."""

__version__ = "0.1.0"
