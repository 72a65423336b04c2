"""Minimal failing cases found by fuzzing, kept so the bugs they found stay fixed."""
