"""Cluster mode: one server per party, talking party-to-party over mutual TLS."""
