"""Shape ops reject bad input with a graphdl error naming the op and its inputs.

Build time: static shapes that cannot work. Run time: dims that were unknown
(None) when the graph was built and turn out not to fit; the reference backend
adds the node and the shapes it was given.
"""

import numpy as np
import pytest

import graphdl as gd

from .errorcheck import ph, raises, run

X34 = "'x' (3, 4) float32"


# -- reshape / flatten / broadcast_to ----------------------------------------------------
def test_reshape_to_an_incompatible_size():
    with raises(gd.ShapeError, "reshape", "cannot reshape (3, 4) into (5, 2)", X34):
        gd.reshape(ph((3, 4)), (5, 2))


def test_reshape_with_two_unknown_dims():
    with raises(gd.ShapeError, "reshape", "at most one -1", X34):
        gd.reshape(ph((3, 4)), (-1, -1))


def test_reshape_with_a_non_int_dim():
    with raises(gd.GraphError, "reshape", "expected an int, got float 2.5", X34):
        gd.reshape(ph((3, 4)), (2.5, 2))


def test_reshape_of_unknown_batch_checks_the_known_part():
    # (?, 3) holds a multiple of 3 elements: never 4
    with raises(gd.ShapeError, "reshape", "cannot reshape (?, 3) into (2, 2)", "'x' (?, 3)"):
        gd.reshape(ph((None, 3)), (2, 2))


def test_flatten_of_a_scalar():
    with raises(gd.ShapeError, "flatten", "at least one dimension", "'x' () float32"):
        gd.flatten(ph(()))


@pytest.mark.parametrize("target", [(3, 4), (2,)])
def test_broadcast_to_an_incompatible_shape(target):
    with raises(gd.ShapeError, "broadcast_to", "cannot broadcast (3, 2)", "'x' (3, 2)"):
        gd.broadcast_to(ph((3, 2)), target)


def test_broadcast_to_a_negative_dim():
    with raises(gd.ShapeError, "broadcast_to", "bad target shape (-1, 2)", "'x' (3, 2)"):
        gd.broadcast_to(ph((3, 2)), (-1, 2))


# -- concat / stack / split ---------------------------------------------------------------
def test_concat_of_mismatched_shapes():
    a, b = ph((2, 3), name="a"), ph((2, 4), name="b")
    with raises(gd.ShapeError, "concat", "sizes differ along axis 1: [3, 4]",
                "'a' (2, 3) float32", "'b' (2, 4) float32"):
        gd.concat([a, b], axis=0)


def test_concat_of_mismatched_ranks():
    a, b = ph((2, 3), name="a"), ph((2, 3, 1), name="b")
    with raises(gd.ShapeError, "concat", "different ranks", "'a' (2, 3)", "'b' (2, 3, 1)"):
        gd.concat([a, b], axis=1)


def test_concat_of_mismatched_dtypes():
    a, b = ph((2, 3), name="a"), ph((2, 3), "int64", name="b")
    with raises(gd.DTypeError, "concat", "share one dtype", "'a' (2, 3) float32",
                "'b' (2, 3) int64", "gd.cast"):
        gd.concat([a, b])


def test_concat_of_scalars_was_an_index_error():
    with raises(gd.ShapeError, "concat", "scalars", "gd.stack", "'a' () float32"):
        gd.concat([ph((), name="a"), ph((), name="b")])


@pytest.mark.parametrize("axis, text", [(2, "axis 2 is out of range for rank 2"),
                                        (1.0, "axis must be an int, got float 1.0")])
def test_concat_bad_axis(axis, text):
    with raises(gd.ShapeError, "concat", text, "'a' (2, 3)"):
        gd.concat([ph((2, 3), name="a"), ph((2, 3), name="b")], axis=axis)


def test_concat_needs_a_list():
    with raises(gd.GraphError, "concat", "a single tensor", "'a' (2, 3)"):
        gd.concat(ph((2, 3), name="a"))
    with raises(gd.GraphError, "concat", "non-empty list"):
        gd.concat([])


def test_stack_of_mismatched_shapes():
    a, b = ph((2, 3), name="a"), ph((3, 2), name="b")
    with raises(gd.ShapeError, "stack", "sizes differ along axis 0", "'a' (2, 3)", "'b' (3, 2)"):
        gd.stack([a, b])


def test_stack_of_mismatched_dtypes_and_axis():
    a, b = ph((3,), name="a"), ph((3,), "float64", name="b")
    with raises(gd.DTypeError, "stack", "share one dtype", "'a' (3,) float32", "float64"):
        gd.stack([a, b])
    with raises(gd.ShapeError, "stack", "axis 2 is out of range for rank 2", "'a' (3,)"):
        gd.stack([a, a], axis=2)


def test_split_sizes_that_do_not_add_up():
    with raises(gd.ShapeError, "split", "sizes [2, 3] do not add up to the size 4 of axis 1",
                X34):
        gd.split(ph((3, 4)), [2, 3], axis=1)


def test_split_negative_sizes_are_named_as_such():
    with raises(gd.ShapeError, "split", "sizes [-1, 5] must all be >= 0", X34):
        gd.split(ph((3, 4)), [-1, 5], axis=1)


@pytest.mark.parametrize("parts", [3, 0])
def test_split_into_parts_that_do_not_divide(parts):
    with raises(gd.ShapeError, "split", f"size 4 cannot be split into {parts} equal parts",
                X34):
        gd.split(ph((3, 4)), parts, axis=1)


def test_split_bad_axis_and_count():
    x = ph((3, 4))
    with raises(gd.ShapeError, "split", "axis 2 is out of range for rank 2", X34):
        gd.split(x, 2, axis=2)
    with raises(gd.GraphError, "split", "expected an int, got float 2.0", X34):
        gd.split(x, 2.0)


# -- indexing ------------------------------------------------------------------------------
@pytest.mark.parametrize("key, text", [
    (5, "index 5 is out of range for axis 0 with size 3"),
    ((slice(None), -5), "index -5 is out of range for axis 1 with size 4"),
    ((0, 0, 0), "too many indices (3) for 2 dimensions"),
    (slice(None, None, 0), "slice step cannot be zero"),
    ((Ellipsis, Ellipsis), "single ellipsis"),
    (1.5, "expected an int, got float 1.5"),
    ([0, 1], "not supported"),
])
def test_getitem_bad_keys(key, text):
    with raises(gd.GraphError, "getitem", text, X34):
        ph((3, 4))[key]


def test_getitem_tensor_index_points_to_one_hot():
    i = ph((1,), "int64", name="i")
    with raises(gd.GraphError, "getitem", "fancy", "gd.one_hot", X34):
        ph((3, 4))[i]


# -- one_hot, expand_dims, squeeze, transpose ----------------------------------------------
def test_one_hot_of_float_indices():
    with raises(gd.DTypeError, "one_hot", "integers, got float32", "gd.cast",
                "'i' (3,) float32"):
        gd.one_hot(ph((3,), name="i"), 4)


@pytest.mark.parametrize("depth, cls, text", [(-1, gd.ShapeError, "depth must be >= 0"),
                                              (2.5, gd.GraphError, "expected an int")])
def test_one_hot_bad_depth(depth, cls, text):
    with raises(cls, "one_hot", text, "'i' (3,) int64"):
        gd.one_hot(ph((3,), "int64", name="i"), depth)


def test_expand_dims_and_squeeze_bad_axes():
    x = ph((3, 4))
    with raises(gd.ShapeError, "expand_dims", "axis 3 is out of range for rank 3", X34):
        gd.expand_dims(x, 3)
    with raises(gd.ShapeError, "expand_dims", "axis must be an int", X34):
        gd.expand_dims(x, 1.5)
    with raises(gd.ShapeError, "squeeze", "axis 0 has size 3, not 1", X34):
        gd.squeeze(x, 0)


def test_transpose_error_shows_the_axes_as_given():
    # used to wrap axis 2 to 0 first and then complain about "perm [0, 1, 0]"
    x = ph((3, 4))
    with raises(gd.ShapeError, "transpose", "axis 2 is out of range for rank 2", X34):
        gd.transpose(x, (0, 1, 2))
    with raises(gd.ShapeError, "transpose", "perm [0, 0] is not a permutation", X34):
        gd.transpose(x, (0, 0))


# -- run time: dims unknown at build time ----------------------------------------------
def _runtime(op, message, *inputs):
    """A run-time ShapeError: the op's message, then the node and the shapes it got."""
    return raises(gd.ShapeError, op, message, f"(node '{op}'", *inputs)


def test_reshape_at_run_time():
    x = ph((None, 3))
    with _runtime("reshape", "cannot reshape (3, 3) (9 elements) into (-1, 2) at run time",
                  "'x' (?, 3) given (3, 3)"):
        run(gd.reshape(x, (-1, 2)), {x: np.zeros((3, 3))})


def test_concat_and_stack_at_run_time():
    a, b = ph((None, 3), name="a"), ph((None, 3), name="b")
    feeds = {a: np.zeros((2, 3)), b: np.zeros((3, 3))}
    with _runtime("concat", "sizes differ along axis 0 at run time", "'b' (?, 3) given (3, 3)"):
        run(gd.concat([a, b], axis=1), feeds)
    with _runtime("stack", "sizes differ along axis 0 at run time", "'a' (?, 3) given (2, 3)"):
        run(gd.stack([a, b]), feeds)


def test_split_at_run_time():
    x = ph((2, None))
    with _runtime("split", "run-time size 3 cannot be split into 2", "'x' (2, ?) given (2, 3)"):
        run(gd.split(x, 2, axis=1)[0], {x: np.zeros((2, 3))})
    with raises(gd.ShapeError, "split", "sizes [1, 2] do not add up to the run-time size 4",
                "(node 'split_1'", "'x' (2, ?) given (2, 4)"):
        run(gd.split(x, [1, 2], axis=1)[0], {x: np.zeros((2, 4))})


def test_getitem_at_run_time():
    x = ph((None, 2))
    with _runtime("getitem", "index 3 is out of range for axis 0 with run-time size 2"):
        run(x[3], {x: np.zeros((2, 2))})
    assert run(x[-2], {x: [[1, 2], [3, 4]]}).tolist() == [1, 2]


def test_broadcast_to_and_squeeze_at_run_time():
    x = ph((None, 4))
    with _runtime("broadcast_to", "cannot broadcast (2, 4) to (3, 4) at run time"):
        run(gd.broadcast_to(x, (3, 4)), {x: np.zeros((2, 4))})
    with _runtime("squeeze", "run-time shape (2, 4) are not all of size 1"):
        run(gd.squeeze(x, 0), {x: np.zeros((2, 4))})


def test_numpy_failures_elsewhere_become_shape_errors_naming_the_node():
    a, b = ph((2, None), name="a"), ph((None, 3), name="b")
    with raises(gd.ShapeError, "matmul", "run-time shapes do not fit", "(node 'matmul'",
                "'a' (2, ?) given (2, 4)", "'b' (?, 3) given (5, 3)"):
        run(a @ b, {a: np.zeros((2, 4)), b: np.zeros((5, 3))})


# -- stop_gradient: forward identity in the op table, here its gradient ----------------
def test_stop_gradient_treats_its_input_as_a_constant():
    x = ph((3,), "float64")
    (g,) = gd.gradients(gd.sum(x * gd.stop_gradient(x)), [x])
    assert run(g, {x: [1.0, -2.0, 3.0]}).tolist() == [1.0, -2.0, 3.0]  # not 2x


@pytest.mark.parametrize("fn", [gd.argmax, gd.argmin])
def test_argmax_axis_must_be_one_int(fn):
    x = ph((3, 4))
    with raises(gd.ShapeError, fn.__name__, "axis must be an int, got float 1.5", "'x' (3, 4)"):
        fn(x, axis=1.5)
    with raises(gd.ShapeError, fn.__name__, "axis 2 is out of range for rank 2"):
        fn(x, axis=2)
