"""Pluggable authentication: portals, realms, credentials and checkers."""
