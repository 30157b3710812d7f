"""Benchmarks of Lieux Communs on PostgreSQL, with their own data generator. Run with `python -m bench`."""
