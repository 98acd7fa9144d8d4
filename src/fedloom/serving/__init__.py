"""fedloom.serving."""
