"""fedloom.federation."""
