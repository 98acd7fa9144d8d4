"""fedloom.scheduler."""
