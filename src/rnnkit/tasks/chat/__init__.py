"""Retrieval chat (task ``chat``): ``ChatModel``, a recurrent dual encoder (Lowe et al. 2015)
trained with in-batch negatives that answers with real replies from a bank, measured by
Recall@k of n candidates against TF-IDF retrieval and a random pick."""

from rnnkit.tasks.chat.config import ChatConfig
from rnnkit.tasks.chat.estimator import ChatModel
from rnnkit.tasks.chat.evaluation import ChatReport

__all__ = ["ChatConfig", "ChatModel", "ChatReport"]
