"""Recipes (tests/fuzz/recipes.py) that once failed tests/test_fuzz.py, shrunk by
hypothesis; tests/test_fuzz.py::test_fuzz_regressions replays each on every backend.

Add a case by pasting the "Falsifying example" recipe with a comment saying what was
wrong and which commit fixed it.
"""

CASES = [
    # softmax cross-entropy style: a -inf-free but extreme chain through log_softmax
    # after a reduction with keepdims (kept as a smoke case of the fuzzer's format)
    {"inputs": [(2, 3)], "steps": [("max", 0, [1], True), ("sub", 0, 1),
                                   ("log_softmax", 2, -1)]},
]
