"""Corpus streams for truncated BPTT: joining records, batchify shapes and order, chunks."""

import torch

from rnnkit.data.text.vocab import EOS_ID
from rnnkit.tasks.lm.features import IGNORE, batchify, chunks, eval_streams, join_records


def test_join_records_puts_eos_after_each_record():
    assert join_records([[5, 6], [7]]).tolist() == [5, 6, EOS_ID, 7, EOS_ID]
    assert join_records([[5], [7]], start=True).tolist() == [EOS_ID, 5, EOS_ID, 7, EOS_ID]


def test_batchify_shapes_and_order():
    stream = torch.arange(23)  # T = 23 -> N = 4 rows of L = (23 - 1) // 4 = 5
    x, y = batchify(stream, 4)
    assert x.shape == y.shape == (4, 5)
    assert x[0].tolist() == [0, 1, 2, 3, 4] and x[1].tolist() == [5, 6, 7, 8, 9]
    assert torch.equal(y, x + 1)  # the target is the next id of the same row
    assert x[3, -1] == 19  # ids 20..22 dropped (only 21 = 22 - 1 is a target of none)


def test_chunks_continue_each_row_in_order():
    x, y = batchify(torch.arange(41), 2)  # (2, 20)
    parts = chunks(x, y, 6)
    assert [c[0].shape[1] for c in parts] == [6, 6, 6, 2]
    assert torch.equal(torch.cat([c[0] for c in parts], 1), x)
    assert parts[1][0][0, 0] == parts[0][0][0, -1] + 1  # row 0 of chunk 2 continues chunk 1


def test_eval_streams_keep_every_target_once():
    stream = torch.arange(2, 30)  # 28 ids -> 27 targets
    x, y = eval_streams(stream, 4)  # 4 rows of 7
    kept = y[y != IGNORE]
    assert x.shape == (4, 7) and sorted(kept.tolist()) == list(range(3, 30))
    assert torch.equal(y[y != IGNORE], x[y != IGNORE] + 1)
