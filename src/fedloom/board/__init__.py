"""fedloom.board."""
