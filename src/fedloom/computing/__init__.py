"""fedloom.computing."""
