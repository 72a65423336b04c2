"""Rendering: DOT structure for every option, and real SVG from Graphviz `dot`."""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import graphdl as gd
from graphdl import fileio
from graphdl.viz import output, scene, style

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

from demo import build_seed004_graph  # noqa: E402
from seed004_path_of_b1 import build_scalar_graph  # noqa: E402
from xor_mlp import build_xor_mlp  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def conv_net():
    """A small LeNet-like net with gradients: conv, pool, dense, softmax CE."""
    g = gd.Graph(seed=0)
    with g.as_default():
        x = gd.placeholder((None, 1, 8, 8), name="images")
        labels = gd.placeholder((None,), "int64", name="labels")
        with gd.name_scope("conv1"):
            w = gd.Variable(gd.initializers.he_normal((4, 1, 3, 3)), name="w")
            h = gd.relu(gd.conv2d(x, w, stride=2, padding="same"))
            h = gd.max_pool2d(h, size=2)
        with gd.name_scope("dense"):
            flat = gd.flatten(h)
            W = gd.Variable(gd.initializers.glorot_uniform((16, 3)), name="W")
            logits = flat @ W
        loss = gd.mean(gd.sparse_softmax_cross_entropy(logits, labels), name="loss")
        grads = gd.gradients(loss, [w, W])
    return g, loss, grads


def node_lines(dot):
    """{node name: its DOT line} for graph-node boxes (id="node:...")."""
    return {m.group(1): line for line in dot.splitlines()
            if (m := re.search(r'id="node:([^"]+)"', line))}


def parse_svg(text):
    root = ET.fromstring(text)
    nodes = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    clusters = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"}
    edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    return nodes, clusters, edges


def texts(element):
    return [t.text for t in element.iter(f"{SVG}text") if t.text]


# -- DOT structure ---------------------------------------------------------------------


def test_each_kind_of_node_has_its_own_shape():
    graph, x, y, loss, prediction, train = build_xor_mlp()
    lines = node_lines(gd.render(graph))
    assert 'shape="ellipse"' in lines["x"]
    assert 'shape="cylinder"' in lines["hidden/W"]
    assert 'shape="box"' in lines["hidden/matmul"] and "rounded" in lines["hidden/matmul"]
    assert f'fillcolor="{style.KINDS["state"]["fillcolor"]}"' in lines["sgd/group"]
    constant = next(n for n in lines if graph.get_node(n).op.name == "constant")
    assert 'height="0.2"' in lines[constant]


def test_gradient_nodes_are_red_and_dashed_forward_nodes_are_not():
    graph, *_ = build_xor_mlp()
    lines = node_lines(gd.render(graph))
    for node in graph.nodes:
        line = lines[node.name]
        is_red = f'color="{style.GRADIENT["color"]}"' in line and "dashed" in line
        assert is_red == node.is_gradient, line


def test_gradient_nodes_are_filed_under_the_forward_scope():
    graph, *_ = build_xor_mlp()
    names = {n.name for n in graph.nodes if n.is_gradient}
    assert any(n.startswith("gradients/hidden/") for n in names)
    assert any(n.startswith("gradients/output/") for n in names)


def test_edges_are_labelled_with_shapes_and_non_default_dtypes():
    g = gd.Graph()
    with g.as_default():
        a = gd.placeholder((None, 3), "float64", name="a")
        i = gd.placeholder((5,), "int64", name="i")
        s = gd.sum(a * 2.0)
        gd.cast(i, "float32") + s
    dot = gd.render(g)
    assert 'label="(?, 3) f64"' in dot
    assert 'label="(5,) i64"' in dot
    assert 'label="scalar f64"' in dot
    assert 'label="(5,)"' in dot  # float32 is the default: no dtype shown
    edges = [ln for ln in gd.render(g, edge_labels=False).splitlines()
             if re.match(r"\s*n\d+ -> n\d+", ln)]
    assert edges and not any("label=" in ln for ln in edges)


def test_node_labels_name_the_op_and_its_key_attributes():
    g, loss, _ = conv_net()
    lines = node_lines(gd.render(loss, view="forward"))
    assert "stride=(2, 2), padding=same" in lines["conv1/conv2d"]
    assert "max_pool2d" in lines["conv1/max_pool2d"]
    assert "axis=" in lines["loss"]  # mean over axes
    assert "labels" in lines["labels"] and "i64" in lines["labels"]


def test_forward_view_leaves_out_gradient_nodes():
    graph, *_ = build_xor_mlp()
    shown = set(node_lines(gd.render(graph, view="forward")))
    assert shown == {n.name for n in graph.nodes if not n.is_gradient}


def test_backward_view_draws_gradient_nodes_and_refers_to_forward_values():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, view="backward")
    assert set(node_lines(dot)) == {n.name for n in graph.nodes if n.is_gradient}
    assert 'id="ref:hidden/tanh"' in dot and "dotted" in dot


def test_backward_view_of_a_loss_finds_its_gradients():
    graph, x, y, loss, *_ = build_xor_mlp()
    shown = set(node_lines(gd.render(loss, view="backward")))
    assert shown and all(graph.get_node(n).is_gradient for n in shown)
    assert "gradients/hidden/matmul" in shown


def test_backward_view_without_gradients_is_an_error():
    g = gd.Graph()
    with g.as_default():
        gd.placeholder((2,)) * 2.0
    with pytest.raises(gd.RenderError, match="gd.gradients first"):
        gd.render(g, view="backward")


def test_both_view_puts_forward_and_backward_side_by_side():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, view="both")
    assert 'id="cluster:forward"' in dot and 'id="cluster:backward"' in dot
    assert dot.index('id="cluster:forward"') < dot.index('id="cluster:backward"')
    # no edge crosses the frames: backward refers to forward values by reference boxes
    boxes_in = {}
    frame = None
    for line in dot.splitlines():
        if "cluster:forward" in line or "cluster:backward" in line:
            frame = "forward" if "cluster:forward" in line else "backward"
        m = re.match(r"\s*(\w+) \[", line)
        if m and frame and "cluster" not in m.group(1):
            boxes_in[m.group(1)] = frame
    for src, dst in re.findall(r"(\w+) -> (\w+)", dot):
        if src in boxes_in and dst in boxes_in and not src.startswith("legend"):
            assert boxes_in[src] == boxes_in[dst], (src, dst)


def test_a_tensor_draws_only_what_it_depends_on():
    graph, x, y, loss, prediction, train = build_xor_mlp()
    shown = set(node_lines(gd.render(prediction)))
    assert shown == {"x", "hidden/W", "hidden/b", "hidden/matmul", "hidden/add", "hidden/tanh",
                     "output/W", "output/b", "output/matmul", "output/add", "output/sigmoid"}


def test_name_scopes_become_nested_clusters():
    g = gd.Graph()
    with g.as_default():
        x = gd.placeholder((2, 3), name="x")
        with gd.name_scope("block"):
            with gd.name_scope("inner"):
                y = gd.relu(x)
            gd.exp(y)
    dot = gd.render(g)
    outer, inner = dot.index('id="cluster:block"'), dot.index('id="cluster:block/inner"')
    assert outer < inner < dot.index('id="node:block/inner/relu"')
    assert 'label="inner"' in dot


def test_depth_collapses_deep_scopes_into_one_box_each():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, view="forward", depth=0)
    assert 'id="scope:hidden"' in dot and 'id="scope:output"' in dot
    assert 'id="node:hidden/matmul"' not in dot and 'id="node:x"' in dot
    assert 'shape="box3d"' in dot and "5 nodes" in dot  # hidden: W, b, matmul, add, tanh
    # edges between collapsed boxes keep the tensor's shape
    assert 'label="(?, 4)"' in dot
    deeper = gd.render(graph, depth=1)
    assert 'id="cluster:gradients"' in deeper and 'id="scope:gradients/hidden:gradients"' in deeper


def test_fifty_layer_graph_collapses_to_one_box_per_layer():
    g = gd.Graph(seed=0)
    with g.as_default():
        h = gd.placeholder((None, 4), name="x")
        for i in range(50):
            with gd.name_scope(f"layer{i}"):
                W = gd.Variable(gd.initializers.glorot_uniform((4, 4)), name="W")
                h = gd.tanh(h @ W)
    dot = gd.render(g, depth=0)
    assert len(re.findall(r'id="scope:layer\d+"', dot)) == 50
    assert len(node_lines(dot)) == 1  # only the placeholder is drawn as itself


def test_highlight_marks_the_path_and_dims_the_rest():
    graph, t = build_scalar_graph()
    lines = node_lines(gd.render(t["L"], view="forward", highlight=(t["b1"], t["L"])))
    on_path = {"b1", "z1", "h1", "H", "yhat1", "yhat2", "L"}
    for name in on_path:
        assert style.HIGHLIGHT in lines[name], name
    for name in ("b2", "z2", "w11", "x1", "y1"):
        assert style.HIGHLIGHT not in lines[name] and style.DIM_LINE in lines[name], name
    # either order works
    assert gd.render(t["L"], highlight=(t["L"], t["b1"])) == \
        gd.render(t["L"], highlight=(t["b1"], t["L"]))


def test_highlight_of_one_tensor_marks_what_it_depends_on():
    graph, t = build_scalar_graph()
    lines = node_lines(gd.render(graph, highlight=t["yhat1"]))
    assert style.HIGHLIGHT in lines["b2"]  # yhat1 = h1 / (h1 + h2) depends on b2
    assert style.HIGHLIGHT not in lines["L"]


def test_highlight_without_a_path_is_an_error():
    graph, t = build_scalar_graph()
    with pytest.raises(gd.RenderError, match="no path between 'x1' and 'y1'"):
        gd.render(graph, highlight=(t["x1"], t["y1"]))


def test_groups_become_clusters_a_backend_can_hand_over():
    graph, x, y, loss, prediction, train = build_xor_mlp()
    matmul, add = graph.get_tensor("hidden/matmul"), graph.get_tensor("hidden/add")
    tanh = graph.get_tensor("hidden/tanh")
    dot = gd.render(loss, view="forward", groups={"kernel 0": [matmul, add, tanh]})
    start = dot.index('id="cluster:group:kernel 0"')
    block = dot[start:dot.index("}", start)]
    for name in ("hidden/matmul", "hidden/add", "hidden/tanh"):
        assert f'id="node:{name}"' in block
    assert 'id="node:hidden/W"' not in block
    listed = gd.render(loss, groups=[[matmul, add]])
    assert 'id="cluster:group:group 0"' in listed


def test_a_node_in_two_groups_is_an_error():
    graph, x, *_ = build_xor_mlp()
    with pytest.raises(gd.RenderError, match="in two groups"):
        gd.render(graph, groups={"a": [x], "b": [x]})


def test_legend_lists_only_the_kinds_drawn():
    graph, x, y, loss, *_ = build_xor_mlp()
    dot = gd.render(loss, view="forward")
    legend = dot[dot.index("cluster_legend"):]
    assert "placeholder" in legend and "variable" in legend
    assert "gradient op" not in legend and "collapsed scope" not in legend
    assert "cluster_legend" not in gd.render(loss, legend=False)


def test_title_and_rankdir():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, title="my model", rankdir="LR")
    assert 'label="my model"' in dot and 'rankdir="LR"' in dot


@pytest.mark.parametrize("options, message", [
    (dict(view="sideways"), "unknown view"),
    (dict(depth=-1), "depth must be"),
    (dict(rankdir="up"), "rankdir must be"),
    (dict(format="gif"), "unknown format"),
    (dict(highlight=(1, 2, 3)), "highlight must be"),
    (dict(groups={"a": [3]}), "must be a Tensor"),
])
def test_bad_options_are_clear_errors(options, message):
    graph, *_ = build_xor_mlp()
    with pytest.raises(gd.RenderError, match=message):
        gd.render(graph, **options)


def test_tensors_from_two_graphs_are_an_error():
    _, x1, *_ = build_xor_mlp()
    _, x2, *_ = build_xor_mlp()
    with pytest.raises(gd.GraphError, match="different graphs"):
        gd.render([x1, x2])


def test_names_are_escaped_in_dot():
    assert gd.viz.dot.quote('say "hi"\\') == '"say \\"hi\\"\\\\"'
    assert gd.viz.dot.quote("<<B>x</B>>") == '"<<B>x</B>>"'  # only labels built by style
    label = gd.viz.style.html_label("x")
    assert gd.viz.dot.quote(label) == str(label) == "<<B>x</B>>"


# -- files, formats and Graphviz ------------------------------------------------------------


def test_format_comes_from_the_path_suffix(tmp_path):
    graph, *_ = build_xor_mlp()
    for suffix, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF"),
                          ("dot", b"digraph")):
        path = tmp_path / f"g.{suffix}"
        source = gd.render(graph, path=path)
        assert path.read_bytes().startswith(magic), suffix
        assert source.startswith("digraph")
    gd.render(graph, path=tmp_path / "noext", format="svg")
    assert (tmp_path / "noext").read_bytes().startswith(b"<?xml")
    with pytest.raises(gd.RenderError, match="cannot tell the format"):
        gd.render(graph, path=tmp_path / "g.txt")


def test_missing_dot_says_how_to_install_and_dot_format_still_works(tmp_path, monkeypatch):
    graph, *_ = build_xor_mlp()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(gd.GraphvizNotFoundError, match="apt-get install graphviz"):
        gd.render(graph, path=tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    gd.render(graph, path=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_a_failed_render_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    graph, *_ = build_xor_mlp()
    path = tmp_path / "pic.svg"
    path.write_text("old picture")

    def broken_dot(source, fmt):
        raise gd.RenderError("dot failed")

    monkeypatch.setattr(gd.viz, "run_dot", broken_dot)
    with pytest.raises(gd.RenderError):
        gd.render(graph, path=path)
    assert path.read_text() == "old picture"

    def interrupted(fd):  # the disk fills up, or the user presses Ctrl-C, mid-write
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        output.write_atomic(path, b"new picture")
    assert path.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["pic.svg"]


def test_dot_errors_are_render_errors():
    with pytest.raises(gd.RenderError, match="dot failed"):
        output.run_dot("digraph { a -> }", "svg")


# -- real SVG from dot ---------------------------------------------------------------------


def test_mlp_with_gradients_renders_to_svg_with_nodes_clusters_and_labels():
    graph, *_ = build_xor_mlp()
    nodes, clusters, edges = parse_svg(gd.to_svg(graph))
    assert {f"node:{n.name}" for n in graph.nodes} <= set(nodes)
    assert {"cluster:hidden", "cluster:output", "cluster:gradients",
            "cluster:gradients/hidden"} <= set(clusters)
    labels = {t for e in edges for t in texts(e)}
    assert {"(?, 2)", "(2, 4)", "(?, 4)", "(4,)"} <= labels
    for n in graph.nodes:
        shape = next(e for e in nodes[f"node:{n.name}"].iter()
                     if e.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
        dashed = shape is not None and shape.get("stroke-dasharray") is not None
        red = shape is not None and shape.get("fill") == style.GRADIENT["fillcolor"]
        if n.op.name != "constant":
            assert (dashed and red) == n.is_gradient, n.name


def test_conv_net_renders_with_attribute_labels():
    g, loss, grads = conv_net()
    nodes, clusters, edges = parse_svg(gd.to_svg(g, view="both"))
    assert {"cluster:forward", "cluster:backward", "cluster:forward/conv1"} <= set(clusters)
    assert "stride=(2, 2), padding=same" in texts(nodes["node:conv1/conv2d"])
    assert any(n.startswith("node:gradients/conv1/conv2d_backprop") for n in nodes)
    assert any(n.startswith("ref:") for n in nodes)  # forward values seen from backward
    assert "(?, 1, 8, 8)" in {t for e in edges for t in texts(e)}


def test_seed004_graph_renders_like_the_slides():
    graph, x, yhat = build_seed004_graph()
    nodes, clusters, edges = parse_svg(gd.to_svg(yhat))
    assert {"node:x", "node:hidden/W1", "node:hidden/matmul", "node:hidden/sigmoid",
            "node:output/W2", "node:output/matmul", "node:output/yhat"} == set(
        n for n in nodes if n.startswith("node:"))
    labels = {t for e in edges for t in texts(e)}
    assert {"(10, 1)", "(4, 10)", "(4, 1)", "(2, 4)", "(2, 1)"} <= labels
    assert "axis=0" in texts(nodes["node:output/yhat"])


def test_graph_shows_inline_in_jupyter():
    graph, *_ = build_seed004_graph()
    svg = graph._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "node:hidden/matmul" in svg


def test_float64_graph_renders(tmp_path):
    g = gd.Graph()
    with g.as_default():
        a = gd.placeholder((3,), "float64", name="a")
        gd.gradients(gd.sum(gd.exp(a)), a)
    path = tmp_path / "out" / "nested" / "g.svg"  # parent folders are made
    gd.render(g, path=path)
    nodes, _, edges = parse_svg(path.read_text())
    assert "(3,) f64" in {t for e in edges for t in texts(e)}
    assert any(n.startswith("node:gradients/") for n in nodes)


def test_a_scope_with_forward_and_gradient_nodes_collapses_to_two_distinct_boxes():
    g = gd.Graph()
    with g.as_default(), gd.name_scope("train"):
        x = gd.placeholder((3,), name="x")
        w = gd.Variable(np.ones(3, "float32"), name="w")
        loss = gd.sum(x * w)
        step = gd.assign_sub(w, 0.1 * gd.gradients(loss, w))
    dot = gd.render(step, depth=0)
    ids = re.findall(r'id="([^"]+)"', dot)
    assert len(ids) == len(set(ids))
    assert 'id="scope:train"' in dot and 'id="scope:train:gradients"' in dot
    assert 'id="node:train/gradients/mul"' not in dot


def test_highlight_endpoints_get_a_double_border():
    graph, t = build_scalar_graph()
    lines = node_lines(gd.render(t["L"], highlight=(t["b1"], t["L"])))
    assert 'peripheries="2"' in lines["b1"] and 'peripheries="2"' in lines["L"]
    assert "peripheries" not in lines["z1"]


def test_legend_is_a_row_top_to_bottom_and_a_chain_left_to_right():
    graph, *_ = build_xor_mlp()
    assert "rank=same" in gd.render(graph)
    assert "rank=same" not in gd.render(graph, rankdir="LR")


def test_attribute_labels_are_readable():
    g = gd.Graph()
    with g.as_default():
        line = node_lines(gd.render(gd.one_hot(gd.placeholder((None,), "int64"), 10)))
    assert "depth=10, dtype=float32" in line["one_hot"]


def test_cross_links_become_references_beside_their_readers():
    graph, *_ = build_xor_mlp()
    drawn, referred = gd.render(graph, cross_links=True), gd.render(graph, cross_links=False)
    assert "ref:" not in drawn
    # the gradient of hidden/tanh reads the forward tanh: a reference in its own frame
    assert 'id="ref:hidden/tanh@gradients/hidden"' in referred
    # updates read variables through references too; no edge joins the three parts
    assert 'id="ref:hidden/W@sgd"' in referred
    kinds = {}
    for line in referred.splitlines():
        if m := re.search(r'^\s*(n\d+) \[.*id="node:([^"]+)"', line):
            node = graph.get_node(m.group(2))
            kinds[m.group(1)] = (node.is_gradient, style.kind_of(node))
    for src, dst in re.findall(r"(n\d+) -> (n\d+)", referred):
        (g_src, k_src), (g_dst, k_dst) = kinds[src], kinds[dst]
        assert g_src == g_dst and not (k_src == "variable" and k_dst == "state")


def test_cross_links_auto_draws_them_for_small_graphs_only():
    graph, *_ = build_xor_mlp()
    assert gd.render(graph) == gd.render(graph, cross_links=True)
    g = gd.Graph(seed=0)
    with g.as_default():
        h = gd.placeholder((None, 4), name="x")
        ws = []
        for i in range(30):
            with gd.name_scope(f"layer{i}"):
                ws.append(gd.Variable(gd.initializers.glorot_uniform((4, 4)), name="W"))
                h = gd.tanh(h @ ws[-1])
        gd.gradients(gd.mean(h), ws)
    assert len(g.nodes) > scene.AUTO_LINKS_MAX_NODES
    assert gd.render(g) == gd.render(g, cross_links=False)
    with pytest.raises(gd.RenderError, match="cross_links must be"):
        gd.render(g, cross_links="sometimes")


def test_tensors_between_two_collapsed_boxes_share_one_edge():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, depth=0, cross_links=True)
    pairs = re.findall(r"^\s*(\w+) -> (\w+) \[(?!.*dashed)", dot, re.M)
    assert len(pairs) == len(set(pairs))
    assert re.search(r'label="\d+ tensors".*tooltip="[^"]*hidden/', dot)


def test_collapsed_scopes_are_referred_to_once_per_frame():
    graph, *_ = build_xor_mlp()
    dot = gd.render(graph, depth=0, cross_links=False)
    refs = re.findall(r'id="(ref[^"]*)"', dot)
    assert len(refs) == len(set(refs))
    # the gradients read the hidden layer's values: one reference to the scope box
    assert 'id="refscope:hidden"' in dot and 'id="ref:hidden/tanh"' not in dot
    both = gd.render(graph, view="both", depth=0)
    assert 'id="refscope:hidden@backward"' in both
    assert "collapsed scope" in both
