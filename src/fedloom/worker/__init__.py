"""fedloom.worker."""
