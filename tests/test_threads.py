"""Threads: graph building keeps per-thread stacks; one Session serializes its runs."""

import threading

import graphdl as gd


def _in_threads(target, n=2):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_two_threads_building_one_graph_keep_their_own_scopes_and_controls():
    g = gd.Graph()
    with g.as_default():
        anchors = [gd.placeholder((), name=f"anchor{i}") for i in range(2)]
    built = {0: [], 1: []}

    def build(i):
        with g.as_default(), gd.name_scope(f"thread{i}"), gd.control_dependencies(
                [anchors[i]]):
            x = gd.placeholder((2,), "float64", name="x")
            for _ in range(500):
                x = x * 2.0
                built[i].append(x.node)
            with gd.name_scope("grads"):
                (gx,) = gd.gradients(gd.sum(x), [x])
            built[i].append(gx.node)

    _in_threads(build)
    for i in (0, 1):
        for node in built[i]:
            assert node.name.startswith(f"thread{i}/"), node.name
            if not node.is_gradient:
                assert node.control_inputs == (anchors[i].node,), node.name
    names = [n.name for n in g.nodes]
    assert len(names) == len(set(names))
    ids = [n.id for n in g.nodes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_the_default_graph_is_per_thread():
    seen = {}

    def look(i):
        seen[i] = gd.get_default_graph()

    _in_threads(look)
    assert seen[0] is not seen[1]
    assert gd.get_default_graph() not in (seen[0], seen[1])


def test_gradient_context_does_not_leak_into_another_thread():
    g = gd.Graph()
    with g.as_default():
        x = gd.placeholder((3,), "float64", name="x")
    plain = []
    inside = threading.Event()
    done = threading.Event()

    def differentiate(i):
        if i == 0:
            with g.gradient_context([x]):
                inside.set()
                done.wait(5)
        else:
            inside.wait(5)
            with g.as_default():
                plain.append(gd.tanh(x))
            done.set()

    _in_threads(differentiate)
    assert not plain[0].node.is_gradient
