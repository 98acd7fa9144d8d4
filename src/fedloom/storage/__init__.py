"""fedloom.storage."""
