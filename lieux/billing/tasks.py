"""Periodic billing jobs run by `lieux worker`: thin wrappers around services."""
