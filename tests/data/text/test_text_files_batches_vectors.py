"""Reading text files (encoding errors), padded id batches and word-vector files."""

import numpy as np
import pytest
import torch

from rnnkit.data.text import (
    TextEncoder,
    TokenBatches,
    Vocabulary,
    load_word_vectors,
    pad_ids,
    read_text,
    read_text_table,
)
from rnnkit.data.text.reading import iter_lines
from rnnkit.errors import DataError


def test_non_utf8_file_names_file_offset_and_fix(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes("good tea\n".encode() + "caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(DataError) as err:
        read_text(path)
    message = str(err.value)
    assert "reviews.txt" in message and "byte offset 12" in message and "line 2" in message
    assert 'encoding="latin-1"' in message
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no UnicodeDecodeError chain
    assert read_text(path, encoding="latin-1").endswith("café au lait")


def test_iter_lines_and_csv_report_the_offset_too(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"text,label\nok,1\n\xff\xfe,0\n")
    with pytest.raises(DataError, match=r"byte offset 16.*line 3"):
        list(iter_lines(path))
    with pytest.raises(DataError, match="byte offset 16"):
        read_text_table(path)
    with pytest.raises(DataError, match="no such file"):
        read_text(tmp_path / "missing.txt")


def test_pad_ids_and_token_batches_group_by_length():
    ids, lengths = pad_ids([[5, 6, 7], [8]])
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    seqs = [[4] * n for n in [1, 9, 2, 8, 3, 7]]
    y = torch.arange(6)
    batches = list(TokenBatches(seqs, 2, targets=[y], shuffle=False))
    assert [b[1].tolist() for b in batches] == [[1, 2], [3, 7], [8, 9]]
    assert [b[2].tolist() for b in batches] == [[0, 2], [4, 5], [3, 1]]
    assert len(TokenBatches(seqs, 4, shuffle=True)) == len(list(TokenBatches(seqs, 4, shuffle=True)))


def test_word_vectors_with_header_case_fallback_and_coverage(tmp_path):
    vocab = Vocabulary.build([["tea", "coffee", "zebra"]])
    path = tmp_path / "vec.txt"
    path.write_text("3 2\nTea 1.0 2.0\ncoffee 3 4\nother 5 6\n", encoding="utf-8")
    vectors = load_word_vectors(path, vocab)
    assert vectors.matrix.shape == (len(vocab), 2) and vectors.dim == 2
    np.testing.assert_array_equal(vectors.matrix[vocab.index["tea"]], [1, 2])  # "Tea" for "tea"
    np.testing.assert_array_equal(vectors.matrix[vocab.index["coffee"]], [3, 4])
    np.testing.assert_array_equal(vectors.matrix[0], [0, 0])  # <pad>
    assert vectors.found == 2 and vectors.coverage == pytest.approx(2 / 3)


def test_word_vectors_malformed_line_and_dimension_mismatch(tmp_path):
    vocab = Vocabulary.build([["tea"]])
    bad = tmp_path / "bad.txt"
    bad.write_text("tea 1 2 3\ncoffee 1 x 3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.txt', line 2: expected numbers after the word, got 'x'"):
        load_word_vectors(bad, vocab)
    short = tmp_path / "short.txt"
    short.write_text("tea 1 2 3\ncoffee 1 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 \(word 'coffee'\) dimension: expected 3, got 2"):
        load_word_vectors(short, vocab)
    with pytest.raises(DataError, match="dimension: expected 50, got 3.*embedding_dim=3"):
        (tmp_path / "h.txt").write_text("1 3\ntea 1 2 3\n", encoding="utf-8")
        load_word_vectors(tmp_path / "h.txt", vocab, dim=50)


def test_text_encoder_truncates_with_one_warning_or_refuses():
    enc = TextEncoder.fit(["a b c d e", "a b"], max_length=3)
    with pytest.warns(UserWarning, match="1 of 2 texts are longer than max_length=3") as record:
        ids = enc.encode(["a b c d e", "a b"])
    assert len(record) == 1 and [len(x) for x in ids] == [3, 2]
    strict = TextEncoder.fit(["a b"], max_length=3, overlong="error")
    with pytest.raises(DataError, match=r"texts\[1\] length: expected at most max_length=3 tokens, got 5"):
        strict.encode(["a", "a b c d e"])
    with pytest.raises(DataError, match=r"texts\[0\]: expected a text with at least one token"):
        enc.encode(["   "])
    assert TextEncoder.stats([[4, 1], [1, 1, 5, 6]]) == {"tokens": {"mean": 3.0, "std": 1.0},
                                                         "unknown_rate": 0.5}
