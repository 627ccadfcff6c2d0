"""ONNX parity of the rnnkit layers: every cell, each extra and their mix, stacking, both
directions, projections, both layouts; exported at (batch 2, length 5), checked in
onnxruntime at (3, 11) so the dynamic axes are proven."""

import numpy as np
import onnx
import pytest
import torch

import rnnkit.nn as rnn
from rnnkit.errors import ConfigError
from rnnkit.export import ParityError, to_onnx
from rnnkit.export.parity import session

EXTRAS = {"plain": {}, "layer_norm": {"layer_norm": True}, "zoneout": {"zoneout": 0.3},
          "recurrent_dropout": {"recurrent_dropout": 0.2},
          "combined": {"layer_norm": True, "zoneout": 0.1, "recurrent_dropout": 0.2}}
ATOL = 1e-4


def make(mode, extras, **kw):
    torch.manual_seed(0)
    return getattr(rnn, mode)(3, 6, **EXTRAS[extras], **kw).eval()


def ops(path):
    return {n.op_type for n in onnx.load(str(path)).graph.node}


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("extras", list(EXTRAS))
def test_sequence_and_step_parity_for_each_extra(mode, extras, tmp_path):
    layer = make(mode, extras, num_layers=2, batch_first=True)
    report = to_onnx(layer, tmp_path / "seq.onnx")
    assert report.max_abs_diff <= ATOL and report.checked_at == (3, 11)
    native = extras in ("plain", "recurrent_dropout")  # dropout is the identity at inference
    assert (mode in ops(report.path)) == native and ("Loop" in ops(report.path)) != native
    assert report.inputs["x"] == ["batch", "length", 3]
    step = to_onnx(layer, tmp_path / "step.onnx", kind="step")
    assert step.max_abs_diff <= ATOL
    assert "Loop" not in ops(step.path)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_bidirectional_time_major_one_layer(mode, tmp_path):
    for extras in ("plain", "combined"):
        layer = make(mode, extras, bidirectional=True, batch_first=False)
        report = to_onnx(layer, tmp_path / f"{extras}.onnx")
        assert report.max_abs_diff <= ATOL
        assert report.inputs["x"] == ["length", "batch", 3]


def test_lstm_projection_with_and_without_extras(tmp_path):
    for extras in ("plain", "layer_norm"):
        layer = make("LSTM", extras, proj_size=4, num_layers=2, bidirectional=True, batch_first=True)
        report = to_onnx(layer, tmp_path / "p.onnx")
        assert report.max_abs_diff <= ATOL and report.outputs["h_n"][:2] == [4, "batch"]
        uni = make("LSTM", extras, proj_size=4, batch_first=True)
        assert to_onnx(uni, tmp_path / "s.onnx", kind="step").max_abs_diff <= ATOL


def test_step_graph_streams_a_sequence_with_state_in_and_out(tmp_path):
    layer = make("LSTM", "combined", num_layers=2, batch_first=True)
    path = to_onnx(layer, tmp_path / "step.onnx", kind="step").path
    sess = session(path)
    assert [i.name for i in sess.get_inputs()] == ["x_t", "h", "c"]
    assert [o.name for o in sess.get_outputs()] == ["y_t", "h_next", "c_next"]
    x = torch.randn(4, 9, 3)
    h, c = np.zeros((2, 4, 6), np.float32), np.zeros((2, 4, 6), np.float32)
    ys = []
    for t in range(9):
        y, h, c = sess.run(None, {"x_t": x[:, t].numpy(), "h": h, "c": c})
        ys.append(y)
    with torch.no_grad():
        want, (h_n, c_n) = layer(x)
    np.testing.assert_allclose(np.stack(ys, 1), want.numpy(), atol=ATOL)
    np.testing.assert_allclose(c, c_n.numpy(), atol=ATOL)


def test_bidirectional_step_graph_is_a_clear_error(tmp_path):
    layer = make("GRU", "plain", bidirectional=True)
    with pytest.raises(ConfigError, match="bidirectional.*kind='sequence'"):
        to_onnx(layer, tmp_path / "x.onnx", kind="step")


def test_unknown_kind_and_unsupported_model(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'step'"):
        to_onnx(make("GRU", "plain"), tmp_path / "x.onnx", kind="stepp")
    with pytest.raises(ConfigError, match="torch.onnx.export"):
        to_onnx(torch.nn.Linear(2, 2), tmp_path / "x.onnx")


def test_parity_failure_raises_with_the_difference(tmp_path, monkeypatch):
    from rnnkit.export import parity

    monkeypatch.setattr(parity, "check_sequence", lambda path, adapter: 0.5)
    with pytest.raises(ParityError, match="differ by 0.5 > atol=0.0001"):
        to_onnx(make("GRU", "plain"), tmp_path / "x.onnx")
    assert (tmp_path / "x.onnx").exists()  # kept for inspection


def test_missing_onnxruntime_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kw):
        if name == "onnxruntime":
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ConfigError, match=r'pip install "rnnkit\[export\]"'):
        to_onnx(make("GRU", "plain"), tmp_path / "x.onnx")
