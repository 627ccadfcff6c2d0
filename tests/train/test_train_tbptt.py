"""Truncated BPTT: chunking, detaching, steps per chunk, and a state carried across batches."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from train_helpers import lstm_chunk_loss, lstm_loss, make_lstm, sequence_data

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.tbptt import detach_state, split_time


def test_split_time_cuts_time_indexed_tensors_and_passes_the_rest_whole():
    x = torch.arange(2 * 10 * 3).reshape(2, 10, 3)
    labels = torch.tensor([0, 1])
    batch = {"x": x, "labels": labels, "name": "a", "pair": (x[..., 0], 7)}
    chunks = split_time(batch, 4)
    assert [c["x"].shape[1] for c in chunks] == [4, 4, 2]
    assert torch.equal(torch.cat([c["x"] for c in chunks], dim=1), x)
    assert torch.equal(chunks[2]["pair"][0], x[:, 8:, 0]) and chunks[2]["pair"][1] == 7
    assert all(c["labels"] is labels and c["name"] == "a" for c in chunks)


def test_split_time_on_time_first_tensors():
    x = torch.randn(10, 2, 3)  # (L, N, H_in)
    lengths = torch.tensor([10, 7])  # (N,) stays whole
    chunks = split_time((x, lengths), 5, time_dim=0, batch_dim=1)
    assert [c[0].shape for c in chunks] == [(5, 2, 3), (5, 2, 3)] and chunks[1][1] is lengths


def test_split_time_refuses_tensors_of_different_lengths():
    with pytest.raises(ShapeError, match=r"TBPTT: lengths along time_dim=1: expected one common length, "
                                         r"got \[8, 10\]"):
        split_time((torch.zeros(2, 10, 3), torch.zeros(2, 8)), 4)


def test_detach_state_detaches_every_tensor_of_a_nested_state():
    w = torch.ones(3, requires_grad=True)
    state = {"lstm": (w * 2, w * 3), "extra": [w * 4, None], "step": 5}
    out = detach_state(state)
    assert out["lstm"][0].grad_fn is None and out["lstm"][1].grad_fn is None
    assert out["extra"][0].grad_fn is None and out["extra"][1] is None and out["step"] == 5
    assert isinstance(out["lstm"], tuple) and isinstance(out["extra"], list)
    assert state["lstm"][0].grad_fn is not None  # the input is left alone


class Recorder:
    """A TBPTT loss_fn that records what state it was given."""

    def __init__(self):
        self.entries = []  # "none" | "detached" | "attached", per call

    def __call__(self, model, chunk, state):
        if state is None:
            self.entries.append("none")
        else:
            attached = any(s.requires_grad or s.grad_fn is not None for s in state)
            self.entries.append("attached" if attached else "detached")
        return lstm_chunk_loss(model, chunk, state)


def _batches(n_batches=3, batch=4, length=10):
    x, y = sequence_data(n_batches * batch, length)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n_batches * batch, batch)]


def test_one_optimizer_step_per_chunk_and_no_gradient_across_chunks():
    recorder = Recorder()
    cfg = TrainConfig(epochs=2, lr=0.01, tbptt_steps=4, progress="none")
    history = Trainer(make_lstm(), recorder, cfg).fit(_batches(n_batches=3, length=10))
    assert history.steps == 2 * 3 * 3  # epochs x batches x chunks (4 + 4 + 2 steps)
    assert recorder.entries == ["none", "detached", "detached"] * 6  # a fresh state per batch


def test_carry_state_carries_the_detached_state_across_batches():
    recorder = Recorder()
    cfg = TrainConfig(epochs=2, lr=0.01, tbptt_steps=5, carry_state=True, progress="none")
    Trainer(make_lstm(), recorder, cfg).fit(_batches(n_batches=3, length=10))
    assert recorder.entries == (["none"] + ["detached"] * 5) * 2  # reset only at each epoch start


def test_truncation_changes_the_gradient_compared_with_full_bptt():
    # The same data and model: one chunk as long as the sequence equals full BPTT, short
    # chunks do not (and take more steps), so truncation really happens.
    batches = _batches(n_batches=1, length=8)
    def run(**kw):
        model = make_lstm()
        Trainer(model, kw.pop("loss"), TrainConfig(epochs=1, lr=0.05, optimizer="sgd", momentum=0.0,
                                                   progress="none", **kw)).fit(batches)
        return torch.cat([p.detach().flatten() for p in model.parameters()])
    full = run(loss=lstm_loss)
    one_chunk = run(loss=lstm_chunk_loss, tbptt_steps=8)
    short = run(loss=lstm_chunk_loss, tbptt_steps=2)
    assert torch.allclose(full, one_chunk, atol=1e-6)
    assert not torch.allclose(full, short, atol=1e-4)


def test_default_evaluation_is_chunked_with_the_state_carried():
    batches = _batches(n_batches=2, length=10)
    model = make_lstm()
    cfg = TrainConfig(epochs=1, lr=1e-9, optimizer="sgd", momentum=0.0, tbptt_steps=5, progress="none")
    history = Trainer(model, lstm_chunk_loss, cfg).fit(batches, batches)
    with torch.no_grad():  # carried state within a batch = the whole sequence at once, per chunk mean
        expected = []
        for x, y in batches:
            out, _ = model(x)
            expected += [F.mse_loss(out[:, :5], y[:, :5]).item(), F.mse_loss(out[:, 5:], y[:, 5:]).item()]
    assert history["val_loss"][0] == pytest.approx(sum(expected) / 4, rel=1e-5)


def test_a_tbptt_loss_fn_must_return_the_state():
    cfg = TrainConfig(epochs=1, tbptt_steps=5, progress="none")
    with pytest.raises(ConfigError, match=r"with tbptt_steps set: expected a \(loss, state\) pair, got Tensor"):
        Trainer(make_lstm(), lambda m, c, s: lstm_loss(m, c), cfg).fit(_batches(1))
