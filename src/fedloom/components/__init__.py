"""fedloom.components."""
