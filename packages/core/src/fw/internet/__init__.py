"""The asynchronous core: Deferreds, the reactor, transports and endpoints."""
