"""fedloom.services."""
