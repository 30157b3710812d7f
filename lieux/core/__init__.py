"""Shared kernel: time, errors, audit trail. Imports no feature app."""
