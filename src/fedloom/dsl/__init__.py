"""fedloom.dsl."""
