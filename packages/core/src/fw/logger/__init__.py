"""The structured event logger."""
