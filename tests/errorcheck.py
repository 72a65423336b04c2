"""Shared helpers for the error tests: every message names the op, then its inputs."""

import re

import numpy as np
import pytest

import graphdl as gd


def raises(cls, op, *parts):
    """``pytest.raises(cls, match=...)``: the message starts with ``op:`` and contains
    every one of ``parts`` (plain text, not regexes) in that order."""
    pattern = "^" + re.escape(f"{op}:") + "".join(".*" + re.escape(p) for p in parts)
    return pytest.raises(cls, match=pattern)


def run(out, feeds):
    """Run ``out`` in a fresh session of the default graph (run-time error tests)."""
    return gd.Session().run(out, {k: np.asarray(v) for k, v in feeds.items()})


def ph(shape, dtype="float32", name="x"):
    """A placeholder in the default graph (named ``x`` unless told)."""
    return gd.placeholder(shape, dtype, name=name)
