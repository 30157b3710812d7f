"""Pure arithmetic of contributions: no ORM, no clock, no I/O."""
