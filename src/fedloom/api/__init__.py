"""fedloom.api."""
