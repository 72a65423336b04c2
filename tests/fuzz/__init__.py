"""Random well-typed graphs for differential testing (tests/test_fuzz.py)."""
