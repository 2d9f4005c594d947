"""The application framework: services, the ``fwd`` runner and its plugins."""
