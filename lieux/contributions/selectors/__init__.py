"""Reads about contributions, one module per area."""
