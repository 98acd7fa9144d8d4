"""fedloom: a federated learning pipeline platform speaking the FATE-Flow v1 API."""

__version__ = "0.1.0"
FATE_COMPAT_VERSION = "1.11.2"

__all__ = ["FATE_COMPAT_VERSION", "__version__"]
