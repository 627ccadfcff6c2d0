"""Bad input raises an error that names the argument, what was expected and what came."""

import math

import pytest
import torch

import rnnkit
from rnnkit.errors import ConfigError, DataError, ShapeError


@pytest.mark.parametrize("kwargs,match", [
    (dict(dropout=1.5), r"LSTM: dropout: expected a probability in \[0, 1\], got 1.5"),
    (dict(dropout=-0.1), r"dropout: expected a probability"),
    (dict(dropout=math.nan), r"dropout: expected a probability"),
    (dict(recurrent_dropout=1.0), r"recurrent_dropout: expected a probability in \[0, 1\)"),
    (dict(zoneout=-0.2), r"zoneout: expected a probability"),
    (dict(proj_size=4), r"proj_size: expected an integer in \[0, hidden_size=4\), got 4"),
    (dict(num_layers=0), r"num_layers: expected an integer >= 1, got 0"),
])
def test_constructor_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        rnnkit.nn.LSTM(3, 4, **kwargs)


def test_hidden_size_and_nonlinearity():
    with pytest.raises(ConfigError, match="hidden_size: expected an integer >= 1, got 2.5"):
        rnnkit.nn.GRU(3, 2.5)
    with pytest.raises(ConfigError, match="nonlinearity: expected 'tanh' or 'relu', got 'sigmoid'"):
        rnnkit.nn.RNN(3, 4, nonlinearity="sigmoid")


def test_dropout_on_one_layer_warns():
    with pytest.warns(UserWarning, match="no effect with num_layers=1"):
        rnnkit.nn.GRU(3, 4, dropout=0.5)


@pytest.mark.parametrize("impl", ["auto", "rnnkit", "reference"])
def test_wrong_feature_size(impl):
    layer = rnnkit.nn.LSTM(4, 8, impl=impl)
    with pytest.raises(ShapeError, match=r"LSTM: input feature size: expected input_size=4, got 3 "
                                         r"\(input shape \(5, 2, 3\)\) \(set input_size=3"):
        layer(torch.randn(5, 2, 3))


def test_wrong_rank_and_type():
    layer = rnnkit.nn.GRU(4, 8)
    with pytest.raises(ShapeError, match=r"GRU: input rank: expected 3 dims .* got 4 dims of shape \(1, 2, 3, 4\)"):
        layer(torch.randn(1, 2, 3, 4))
    with pytest.raises(ShapeError, match="expected a Tensor or PackedSequence, got list"):
        layer([[1.0] * 4])


def test_wrong_dtype():
    with pytest.raises(ShapeError, match=r"input dtype: expected torch.float32 .* got torch.float64"):
        rnnkit.nn.RNN(2, 3)(torch.randn(4, 1, 2, dtype=torch.float64))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_input_names_the_position(bad):
    x = torch.randn(5, 2, 3)
    x[3, 1, 2] = bad
    with pytest.raises(DataError, match=rf"LSTM: input: expected finite values, got {bad} at index \(3, 1, 2\)"):
        rnnkit.nn.LSTM(3, 4)(x)


@pytest.mark.parametrize("lengths,match", [
    ([5, 6], r"lengths: expected values in \[1, 5\] \(the padded sequence length\), got \[6\]"),
    ([0, 3], r"lengths: expected values in \[1, 5\] .* got \[0\]"),
    ([5], r"lengths: expected one length per sequence \(2\), got 1 lengths"),
    ([2.5, 3.0], r"lengths dtype: expected integers, got torch.float32"),
])
def test_bad_lengths(lengths, match):
    with pytest.raises(ShapeError, match=match):
        rnnkit.nn.GRU(3, 4)(torch.randn(5, 2, 3), lengths=torch.tensor(lengths))


def test_bad_initial_state():
    layer = rnnkit.nn.LSTM(3, 4, num_layers=2)
    x = torch.randn(5, 2, 3)
    with pytest.raises(ShapeError, match=r"LSTM: h_0 shape: expected \(2, 2, 4\), got \(1, 2, 4\)"):
        layer(x, (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)))
    with pytest.raises(ShapeError, match=r"LSTM: hx: expected \(h_0, c_0\), got 1 tensors"):
        layer(x, (torch.zeros(2, 2, 4),))
    h = torch.zeros(2, 2, 4)
    h[0, 0, 0] = math.nan
    with pytest.raises(DataError, match="h_0: expected finite values"):
        layer(x, (h, torch.zeros(2, 2, 4)))


def test_unknown_impl_suggests_nearest():
    with pytest.raises(ConfigError, match="did you mean 'reference'"):
        rnnkit.nn.GRU(2, 3, impl="refrence")(torch.randn(3, 1, 2))
