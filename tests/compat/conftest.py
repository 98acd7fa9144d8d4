"""Shares the e2e fixtures (demo data)."""

from tests.e2e.conftest import demo_dir

__all__ = ["demo_dir"]
