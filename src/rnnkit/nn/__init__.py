"""Recurrent layers and cells with the math in plain sight.

``RNN``, ``LSTM``, ``GRU`` are drop-in for ``torch.nn`` and add ``layer_norm``,
``recurrent_dropout`` and ``zoneout``; ``RNNCell``, ``LSTMCell``, ``GRUCell`` do one step;
``Recurrent(cell)`` runs any cell over a sequence.
"""

from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.layers import GRU, LSTM, RNN, RecurrentLayer
from rnnkit.nn.recurrent import Recurrent

__all__ = ["RNN", "LSTM", "GRU", "RecurrentLayer", "RNNCell", "LSTMCell", "GRUCell", "Recurrent"]
