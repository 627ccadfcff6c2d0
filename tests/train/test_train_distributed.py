"""Data-parallel training: 2 gloo processes under torchrun match one process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

from rnnkit.errors import ShapeError
from rnnkit.train.distributed import DistContext, shard_batch

# The same script runs alone (in this process, via `train`) and under torchrun.
SCRIPT = textwrap.dedent('''
    import os
    import sys
    import torch
    import torch.nn.functional as F
    from rnnkit.train import Trainer, TrainConfig

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(3, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 1)

        def forward(self, x, state=None):
            y, state = self.rnn(x, state)
            return self.head(y), state

    SEEN = set()  # the batch sizes loss_fn was given

    def loss_fn(model, batch):
        SEEN.add((batch["x"].shape[0], batch["tag"]))
        out, _ = model(batch["x"])
        return F.mse_loss(out, batch["y"])

    def chunk_loss(model, chunk, state):
        SEEN.add((chunk["x"].shape[0], chunk["tag"]))
        out, state = model(chunk["x"], state)
        return F.mse_loss(out, chunk["y"]), state

    def train(out_dir, tbptt):
        torch.set_num_threads(1)
        g = torch.Generator().manual_seed(3)
        x = torch.randn(24, 10, 3, generator=g)
        y = x.cumsum(1).sum(-1, keepdim=True) * 0.1
        batches = [{"x": x[i:i + 8], "y": y[i:i + 8], "tag": "global"} for i in range(0, 24, 8)]
        torch.manual_seed(0)
        model = Net()
        extra = dict(tbptt_steps=5, accumulate=2) if tbptt else dict(grad_clip_norm=0.5)
        cfg = TrainConfig(epochs=2, lr=0.01, progress="plain", **extra)
        history = Trainer(model, chunk_loss if tbptt else loss_fn, cfg, out_dir=out_dir).fit(
            batches, batches)
        return model, history

    if __name__ == "__main__":
        out_dir, tbptt = sys.argv[1], sys.argv[2] == "1"
        model, history = train(out_dir, tbptt)
        rank = int(os.environ.get("RANK", 0))  # the trainer has closed the process group
        torch.save({"model": model.state_dict(), "rows": history.rows, "steps": history.steps,
                    "seen": sorted(SEEN)},
                   f"{out_dir}/final_rank{rank}.pt")
''')


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(script, out_dir, tbptt):
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "OMP_NUM_THREADS": "1"}
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"  # loopback only
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--nnodes=1",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", str(script), str(out_dir),
           "1" if tbptt else "0"]
    # A session of its own, so that a hang can be ended with all of torchrun's workers.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun timed out after 120 s:\n{out[-2000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.parametrize("tbptt", [False, True], ids=["full-bptt", "tbptt-accumulate"])
def test_two_gloo_processes_match_one_process(tmp_path, tbptt, monkeypatch):
    script = tmp_path / "ddp_script.py"
    script.write_text(SCRIPT)
    (tmp_path / "ddp").mkdir()
    result = _torchrun(script, tmp_path / "ddp", tbptt)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    namespace: dict = {}
    exec(compile(SCRIPT, str(script), "exec"), namespace)  # the same code, one process
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    single, history = namespace["train"](tmp_path / "single", tbptt)

    for rank in (0, 1):
        ddp = torch.load(tmp_path / "ddp" / f"final_rank{rank}.pt", weights_only=True)
        assert ddp["steps"] == history.steps
        assert ddp["seen"] == [(4, "global"), (8, "global")]  # its half in training, all in evaluation
        for name, value in single.state_dict().items():
            assert torch.allclose(ddp["model"][name], value, atol=1e-6), (rank, name)
        assert [r["train_loss"] for r in ddp["rows"]] == pytest.approx(history["train_loss"], abs=1e-6)
    # Only rank 0 writes the run's files and prints.
    assert {"checkpoint.pt", "metrics.csv", "training_curve.png"} <= {p.name for p in (tmp_path / "ddp").iterdir()}
    assert result.stderr.count("epoch 2/2") == 1


def test_a_batch_that_does_not_split_evenly_is_a_clear_error():
    batch = {"x": torch.zeros(5, 4, 3), "lengths": torch.ones(5), "scale": torch.tensor(2.0)}
    with pytest.raises(ShapeError, match=r"distributed: batch size along batch_dim=0: expected a multiple "
                                         r"of the world size 2, got 5 \(use a global batch size divisible"):
        shard_batch(batch, DistContext(rank=1, world_size=2), batch_dim=0)
    batch = {"x": torch.arange(6 * 2).reshape(6, 2), "scale": torch.tensor(2.0)}
    part = shard_batch(batch, DistContext(rank=1, world_size=3), batch_dim=0)
    assert part["x"].tolist() == [[4, 5], [6, 7]] and part["scale"] is batch["scale"]
