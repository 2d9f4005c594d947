"""Sample tests with every outcome, for comparing trial's counts with pytest's."""
