"""Helpers for tests and demos (local mail stack, fixtures)."""
