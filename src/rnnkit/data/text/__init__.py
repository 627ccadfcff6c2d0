"""Text machinery shared by the text tasks.

* :mod:`~rnnkit.data.text.tokenizers`: characters, regex words, BPE subwords;
* :mod:`~rnnkit.data.text.vocab`: :class:`Vocabulary` with ``<pad>`` 0, ``<unk>`` 1,
  ``<bos>`` 2, ``<eos>`` 3;
* :mod:`~rnnkit.data.text.encoder`: :class:`TextEncoder`, texts -> ids with a length policy;
* :mod:`~rnnkit.data.text.batches`: padded id batches grouped by length;
* :mod:`~rnnkit.data.text.embeddings`: word vectors from GloVe / word2vec text files;
* :mod:`~rnnkit.data.text.reading`: text files and CSVs with clear encoding errors.
"""

from rnnkit.data.text.batches import TokenBatches, pad_ids
from rnnkit.data.text.embeddings import WordVectors, load_word_vectors
from rnnkit.data.text.encoder import TextEncoder
from rnnkit.data.text.reading import iter_lines, read_text, read_text_table
from rnnkit.data.text.tokenizers import (
                                         WORD_PATTERN,
                                         BPETokenizer,
                                         CharTokenizer,
                                         WordTokenizer,
                                         make_tokenizer,
                                         tokenizer_from_dict,
)
from rnnkit.data.text.vocab import BOS, EOS, PAD, PAD_ID, UNK, UNK_ID, Vocabulary

__all__ = ["CharTokenizer", "WordTokenizer", "BPETokenizer", "make_tokenizer", "tokenizer_from_dict",
           "WORD_PATTERN", "Vocabulary", "PAD", "UNK", "BOS", "EOS", "PAD_ID", "UNK_ID",
           "TextEncoder", "TokenBatches", "pad_ids", "WordVectors", "load_word_vectors",
           "read_text", "read_text_table", "iter_lines"]
