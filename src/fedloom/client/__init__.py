"""fedloom.client."""
