"""The training benchmark's harness runs (quick mode, reference backend only), so it
cannot rot: every workload's step, the JSON report, and one cold-start pair."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_train.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_train", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_on_the_reference_backend(tmp_path):
    bench = _load()
    out = tmp_path / "bench.json"
    lines = []
    report = bench.main(["--quick", "--contestants", "graphdl-numpy,numpy",
                         "--workloads", "mlp128,mlp1,cnn64", "--block", "1",
                         "--cold", "--cold-workloads", "mlp128",
                         "--threads", "1", "--json", str(out)], log=lines.append)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report, default=float))
    for workload in ("mlp128", "mlp1", "cnn64"):
        ours = report["workloads"][workload]["graphdl-numpy"]
        assert ours["median_ms"] > 0 and ours["steps"] >= 1
        assert ours["loss_ok"], ours  # the same first-step loss as NumPy by hand
    assert report["workloads"]["mlp128"]["graphdl-numpy"]["baseline"] == "numpy"
    assert "numpy" in report["skipped"]["cnn64"]  # written for the MLP only: skipped, said
    cold = report["cold"]["mlp128"]["graphdl-numpy"]
    assert cold["cold"]["total_s"] > cold["cold"]["after_import_s"] > 0, cold
    assert list(report["cold"]) == ["mlp128"]  # cold runs only for the workloads run
    assert any("LOSS MISMATCH" in line for line in lines) is False


def test_a_wrong_step_is_flagged_as_a_loss_mismatch():
    bench = _load()
    result = {"numpy": {"loss0": 2.30, "median_ms": 1.0},
              "graphdl-x": {"loss0": 2.50, "median_ms": 2.0},
              "numpy-matmuls": {"loss0": float("nan"), "median_ms": 0.5}}
    bench._compare(result, print)
    assert result["graphdl-x"]["loss_ok"] is False and result["numpy"]["loss_ok"] is True
    assert result["graphdl-x"]["ratio"] == 2.0 and result["numpy-matmuls"]["loss_ok"]
