"""``inspect`` for a :class:`~rnnkit.Seq2Seq` translator (or chat model): one sentence."""

from __future__ import annotations

import html

import torch

from rnnkit.data.text.vocab import BOS
from rnnkit.errors import DataError, problem
from rnnkit.inspect import figures
from rnnkit.inspect.gradients import EmbeddingSwap, gradient_reach, reach_steps
from rnnkit.inspect.report import Inspection
from rnnkit.inspect.trace import trace_layer
from rnnkit.inspect.unrolled import add_unrolled
from rnnkit.tasks.seq2seq.plots import attention_figure


def teacher_forced(model, text: str):
    """``(source tokens, output tokens, src (1, S), lengths, target_in (1, T), target (1, T))``
    for the model's own greedy translation of ``text``."""
    source, output, _ = model.attention(text)
    vocab = model.target_encoder_.vocab
    src = torch.tensor(model.source_ids([text], "inspect"))  # (1, S)
    target = torch.tensor([vocab.encode(output)])  # (1, T)
    target_in = torch.cat([torch.tensor([vocab.encode([BOS])]), target[:, :-1]], dim=1)
    return source, output, src, torch.tensor([src.shape[1]]), target_in, target


def inspect_seq2seq(model, text: str) -> Inspection:
    model.check_fitted()
    if not isinstance(text, str) or not text.strip():
        raise DataError(problem("inspect: sentence", expected="a non-empty str", got=repr(text)[:40]))
    net = model.model_
    net.eval()
    source, output, src, lengths, target_in, target = teacher_forced(model, text)
    captured = []
    hook = net.decoder.register_forward_pre_hook(lambda _m, args: captured.append((args[0], args[1])))
    try:
        with torch.no_grad():
            logits, weights = net(src, lengths, target_in, return_attention=True)  # (1, T, V), (1, T, S)
    finally:
        hook.remove()
    dec_inputs = torch.cat([x[0] for x, _ in captured], dim=0)  # (T, E + H)
    dec_h0 = captured[0][1]
    weights = weights[0].double().numpy()  # (T, S)
    translation = model.translate([text], beam=1)[0]

    insp = Inspection("rnnkit inspect: translator", _input_html(text, source, output))
    c = model.config
    insp.summary = {"task": "seq2seq", "cell": c.cell, "hidden size": str(c.hidden_size),
                    "attention": c.attention, "output": translation}
    insp.add("attention", attention_figure(source, output, weights),
             "Attention of each output token (rows) over the source tokens (columns); each row sums to 1.",
             weights=weights)
    with torch.no_grad():
        embedded = net.source_embedding(src)[0]  # (S, E)
    add_unrolled(insp, trace_layer(net.encoder, embedded), source, "encoder", "encoder", axis="source token")
    add_unrolled(insp, trace_layer(net.decoder, dec_inputs, dec_h0), output, "decoder", "decoder",
                 axis="output token")

    def log_likelihood(e):
        with EmbeddingSwap(net.source_embedding, e):
            logp = torch.log_softmax(net(src, lengths, target_in), dim=-1)  # (1, T, V)
        return logp.gather(2, target[..., None]).sum()

    norms = gradient_reach(log_likelihood, embedded)
    insp.add("gradient", figures.gradient_plot(norms, "gradient of log p(output) "
                                               "reaching each source token", source, xlabel="source token"),
             f"‖∂ log p(output | source) / ∂ e_s‖ per source token; {reach_steps(norms)} of {len(source)} "
             "tokens get at least 1e-3 of the largest.", norms=norms)
    return insp


def _input_html(text: str, source: list[str], output: list[str]) -> str:
    return (f"<p>{html.escape(text)}</p><h3>Source tokens</h3><p>{html.escape(' '.join(source))}</p>"
            f"<h3>Output tokens (greedy)</h3><p>{html.escape(' '.join(output))}</p>")
