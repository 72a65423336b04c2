"""Static shape inference agrees with NumPy (property-based)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import graphdl as gd
from graphdl.shapes import broadcast_shapes


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_broadcast_matches_numpy(shapes):
    a_shape, b_shape = shapes.input_shapes
    with gd.Graph().as_default():
        a = gd.placeholder(a_shape, "float64")
        b = gd.placeholder(b_shape, "float64")
        out = a * b
        assert out.shape == shapes.result_shape
        value = gd.Session().run(out, {a: np.ones(a_shape), b: np.ones(b_shape)})
    assert value.shape == shapes.result_shape


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.data())
def test_unknown_dimensions_broadcast_conservatively(shapes, data):
    """Replacing known sizes by None never contradicts the fully known result."""
    a_shape, b_shape = shapes.input_shapes
    hide = data.draw(st.lists(st.booleans(), min_size=len(a_shape), max_size=len(a_shape)))
    partial = tuple(None if h else d for h, d in zip(hide, a_shape))
    result = broadcast_shapes(partial, b_shape)
    assert len(result) == len(shapes.result_shape)
    for got, full in zip(result, shapes.result_shape):
        assert got is None or got == full


def test_gradient_of_broadcast_has_input_shape():
    with gd.Graph().as_default():
        a = gd.placeholder((4, 1), "float64")
        b = gd.placeholder((3,), "float64")
        ga, gb = gd.gradients(gd.sum(a * b), [a, b])
        assert ga.shape == (4, 1) and gb.shape == (3,)
