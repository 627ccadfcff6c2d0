"""``inspect`` for a :class:`~rnnkit.TextClassifier`: one text."""

from __future__ import annotations

import html

import numpy as np
import torch

from rnnkit.errors import DataError, problem
from rnnkit.inspect import figures
from rnnkit.inspect.gradients import EmbeddingSwap, gradient_reach, reach_steps
from rnnkit.inspect.report import Inspection
from rnnkit.inspect.trace import trace_layer
from rnnkit.inspect.unrolled import add_unrolled


def inspect_text_classifier(model, text: str) -> Inspection:
    model.check_fitted()
    if not isinstance(text, str):
        raise DataError(problem("inspect: text", expected="one str", got=type(text).__name__))
    tokens = model.encoder_.tokens([text], "inspect")[0]
    if not tokens:
        raise DataError(problem("inspect: text", expected="at least one token", got="an empty text",
                                fix="pass a text with words in it"))
    net = model.model_
    net.eval()
    members = getattr(net, "members", None)
    # an ensemble's attention is the members' mean; the unrolled states and the gradient
    # are those of one network, its first member
    single = net if members is None else members[0]
    of = "" if members is None else f" (network 1 of the {len(members)} in the ensemble)"
    ids = torch.tensor([model.encoder_.vocab.encode(tokens)])  # (1, T)
    lengths = torch.tensor([len(tokens)])
    with torch.no_grad():
        logits, attention = net(ids, lengths, return_attention=True)  # (1, K), (1, T)
        embedded = single.embedding(ids)[0]  # (T, E)
    proba = model.predict_proba_ids(ids.tolist())[0]
    k = int(proba.argmax()) if not model.multilabel_ else int(logits[0].argmax())
    label = str(model.classes_[k])
    weights = attention[0].double().numpy()

    insp = Inspection("rnnkit inspect: text classifier", _input_html(text, tokens, weights, model.classes_, proba))
    c = model.config
    insp.summary = {"task": "classify-text", "cell": c.cell, "hidden size": str(c.hidden_size),
                    "bidirectional": str(c.bidirectional), "prediction": label}
    insp.add("attention", figures.token_weights(tokens, weights, "attention pooling weight per token"),
             "How much each token's state contributes to the text's summary (sums to 1).", weights=weights)
    trace = trace_layer(single.encoder, embedded)
    add_unrolled(insp, trace, tokens, "encoder", "encoder" + of, axis="token")

    def class_logit(e):
        with EmbeddingSwap(single.embedding, e):
            return single(ids, lengths)[0, k]

    norms = gradient_reach(class_logit, embedded)
    insp.add("gradient", figures.gradient_plot(norms, f"gradient of the '{label}' logit reaching each token", tokens,
                                               xlabel="token"),
             f"‖∂ logit('{label}') / ∂ e_t‖ per token embedding e_t{of}; {reach_steps(norms)} of {len(tokens)} "
             "tokens get at least 1e-3 of the largest.", norms=norms)
    return insp


def _input_html(text: str, tokens: list[str], weights: np.ndarray, classes, proba) -> str:
    top = weights.max() or 1.0
    spans = " ".join(f'<span class="tok" style="background: rgba(220,80,0,{w / top:.2f})" '
                     f'title="{w:.3f}">{html.escape(t)}</span>' for t, w in zip(tokens, weights))
    rows = "".join(f"<tr><td>{html.escape(str(c))}</td><td>{p:.3f}</td></tr>"
                   for c, p in sorted(zip(classes, proba), key=lambda cp: -cp[1]))
    return (f"<p>{html.escape(text)}</p><h3>Tokens read (shaded by attention)</h3><p>{spans}</p>"
            f"<h3>Class probabilities</h3><table>{rows}</table>")
