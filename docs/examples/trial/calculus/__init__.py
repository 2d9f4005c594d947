"""The calculator of the testing tutorial."""
