"""Perspective Broker: remote object references and calls over a network."""
