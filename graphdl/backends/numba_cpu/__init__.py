"""Numba CPU backend (registers "numba")."""
