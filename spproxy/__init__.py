"""spproxy: a local authenticating reverse proxy for Amazon's Selling Partner API."""

__version__ = "0.1.0"
