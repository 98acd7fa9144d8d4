"""fedloom.ml."""
