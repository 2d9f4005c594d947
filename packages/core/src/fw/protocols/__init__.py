"""Protocols built on the fw core: line and length-prefixed framing, TLS, SOCKS, AMP and more."""
