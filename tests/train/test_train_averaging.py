"""The weights' moving average (``TrainConfig.ema_decay``): the rule, what the Trainer
evaluates, keeps and returns, and exact resume with it."""

from __future__ import annotations

import pytest
import torch
from train_helpers import linear_loss, lstm_loss, make_lstm, regression_data, sequence_data

from rnnkit.errors import ConfigError
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.averaging import WeightAverage


def _batches():
    x, y = regression_data(32)
    return [(x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8)]  # 4 batches


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


class Recording:
    """linear_loss that records the weights each step starts from."""

    def __init__(self):
        self.seen = []

    def __call__(self, model, batch):
        self.seen.append(_flat(model).clone())
        return linear_loss(model, batch)


def _ema(trajectory, decay):
    avg = trajectory[0].clone()
    for k, w in enumerate(trajectory[1:], start=1):
        d = min(decay, (1 + k) / (10 + k))
        avg = d * avg + (1 - d) * w
    return avg


def test_weight_average_known_answer_and_swap():
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    avg = WeightAverage(model, decay=0.5)
    assert avg.decay_at(1) == pytest.approx(2 / 11) and avg.decay_at(100) == 0.5
    for value in (1.0, 2.0, 3.0):
        with torch.no_grad():
            model.weight.fill_(value)
        avg.update(model)
    # d_1 = 2/11, d_2 = 3/12, d_3 = min(0.5, 4/13)
    expected = 0.0
    for k, w in enumerate((1.0, 2.0, 3.0), start=1):
        d = min(0.5, (1 + k) / (10 + k))
        expected = d * expected + (1 - d) * w
    assert float(avg.average[0]) == pytest.approx(expected)
    with avg.swapped_in(model):
        assert float(model.weight.detach()) == pytest.approx(expected)
    assert float(model.weight.detach()) == 3.0  # the model's own weights are back


def test_without_early_stopping_the_fit_returns_the_average_of_the_trajectory():
    cfg = dict(epochs=3, lr=0.05, optimizer="sgd", momentum=0.0, progress="none")
    torch.manual_seed(0)
    raw = torch.nn.Linear(3, 1)
    rec = Recording()
    Trainer(raw, rec, TrainConfig(**cfg)).fit(_batches())
    trajectory = rec.seen + [_flat(raw)]  # w_0 .. w_12
    assert len(trajectory) == 13

    torch.manual_seed(0)
    averaged = torch.nn.Linear(3, 1)
    rec2 = Recording()
    Trainer(averaged, rec2, TrainConfig(**cfg, ema_decay=0.9)).fit(_batches())
    # training stepped the raw weights: the same trajectory as without averaging
    assert all(torch.equal(a, b) for a, b in zip(rec.seen, rec2.seen))
    torch.testing.assert_close(_flat(averaged), _ema(trajectory, 0.9))
    assert not torch.allclose(_flat(averaged), _flat(raw))


def test_evaluation_and_early_stopping_see_and_keep_the_averaged_weights():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    rec, evaluated = Recording(), []
    scores = iter([1.0, 2.0, 3.0, 4.0])  # epoch 1 is the best; patience 1 stops after epoch 3

    def evaluate(m, _):
        evaluated.append(_flat(m).clone())
        return {"val_loss": next(scores)}

    cfg = TrainConfig(epochs=4, lr=0.05, optimizer="sgd", momentum=0.0, patience=1,
                      ema_decay=0.9, progress="none")
    history = Trainer(model, rec, cfg, evaluate_fn=evaluate).fit(_batches())
    assert history.best_epoch == 1 and len(evaluated) == 3
    torch.testing.assert_close(evaluated[0], _ema(rec.seen[:5], 0.9))  # w_0 .. w_4 after epoch 1
    torch.testing.assert_close(_flat(model), evaluated[0])  # the best averaged weights come back


def test_resume_with_averaging_is_exact(tmp_path):
    x, y = sequence_data(24, length=8)
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 24, 4)]
    cfg = TrainConfig(epochs=3, lr=0.01, ema_decay=0.95, checkpoint_every_steps=4, progress="none")
    whole = make_lstm()
    Trainer(whole, lstm_loss, cfg, out_dir=tmp_path / "a").fit(batches)

    calls = {"n": 0}

    def killed(model, batch):
        calls["n"] += 1
        if calls["n"] == 11:
            raise KeyboardInterrupt
        return lstm_loss(model, batch)

    with pytest.raises(KeyboardInterrupt):
        Trainer(make_lstm(), killed, cfg, out_dir=tmp_path / "b").fit(batches)
    resumed = make_lstm(seed=5)
    Trainer(resumed, lstm_loss, cfg, out_dir=tmp_path / "b").fit(batches, resume=True)
    assert torch.equal(_flat(whole), _flat(resumed))


@pytest.mark.filterwarnings("ignore:resuming with a TrainConfig")  # the change it refuses
def test_resuming_a_run_without_an_average_is_refused(tmp_path):
    x, y = sequence_data(8, length=4)
    Trainer(make_lstm(), lstm_loss, TrainConfig(epochs=1, progress="none"),
            out_dir=tmp_path).fit([(x, y)])
    with pytest.raises(ConfigError, match="moving average"):
        Trainer(make_lstm(), lstm_loss, TrainConfig(epochs=2, ema_decay=0.9, progress="none"),
                out_dir=tmp_path).fit([(x, y)], resume=True)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, "0.9", True])
def test_ema_decay_must_lie_strictly_between_0_and_1(bad):
    with pytest.raises(ConfigError, match="ema_decay"):
        TrainConfig(ema_decay=bad)
