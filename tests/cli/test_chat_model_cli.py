"""``rnnkit train | evaluate | predict | chat`` for task chat (a retrieval ChatModel), end to
end on a small CSV of topical dialogue pairs: every reply comes from the model's bank, and
bad input is one line, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path

import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.cli.chat import retrieval_loop
from rnnkit.cli.chat_model import split_turns
from rnnkit.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chat_retrieval.toml"
TOPICS = {
    "pizza": (["do you like pizza", "what pizza do you eat", "pizza tonight ?", "cheese or pepperoni pizza"],
              ["i love pizza with extra cheese", "pepperoni pizza is the best", "pizza every friday for me",
               "the pizza place downtown is great", "i bake pizza at home"]),
    "dogs": (["do you have a dog", "what breed is your puppy", "dogs or cats ?", "my dog barks a lot"],
             ["my dog is a golden retriever", "i walk my puppy every morning", "dogs are loyal friends",
              "my puppy chews my shoes", "i want a second dog"]),
    "books": (["do you like to read books", "what novel are you reading", "any book to recommend ?",
               "i finished a novel"], ["i am reading a fantasy novel", "books before bed relax me",
                                       "the library is my favourite place", "try a mystery novel",
                                       "i read two books a month"]),
    "music": (["what music do you like", "do you play guitar", "favourite band ?", "i sang at a concert"],
              ["i play guitar in a band", "rock music all day", "concerts are so loud and fun",
               "i listen to jazz at night", "my band plays on fridays"]),
}
TINY = ["model.hidden_size=12", "model.embedding_dim=12", "model.vector_size=12", "model.min_freq=1",
        "train.epochs=2", "train.batch_size=16", "train.progress='none'", "train.val_fraction=0.2",
        "data.limit=400"]


def dialogue_pairs(n: int, seed: int, split: str) -> list[tuple[str, str, str]]:
    """``n`` (source, reply, split) rows: a message and a reply of one topic, half of the
    sources with an earlier turn (a reply of the same topic) before `` <sep> ``."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        messages, replies = TOPICS[rng.choice(sorted(TOPICS))]
        source = rng.choice(messages)
        if i % 2:
            source = f"{rng.choice(replies)} <sep> {source}"
        rows.append((source, rng.choice(replies), split))
    return rows


def run(args: list[str], stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """``main(args)`` with its stdout and stderr (and ``stdin`` piped in)."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained from examples/chat_retrieval.toml on a CSV: (folder, stdout)."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("chat")
    rows = dialogue_pairs(240, 0, "train") + dialogue_pairs(40, 1, "test")
    pd.DataFrame(rows, columns=["source", "target", "split"]).to_csv(folder / "pairs.csv", index=False)
    args = ["train", str(EXAMPLE), "--out", str(folder / "run"), "--set", f"data.path='{folder / 'pairs.csv'}'"]
    for item in TINY:
        args += ["--set", item]
    code, out, err = run(args)
    assert code == 0, err
    return folder, out


def model_of(trained) -> tuple[Path, object]:
    path = trained[0] / "run" / "model.rnnkit"
    return path, rnnkit.load(path)


def test_train_scores_the_test_split_beside_the_baselines(trained):
    _, out = trained
    assert "Test split (40 pairs)" in out
    text = out.lower()
    assert "recall@1" in text and "tfidf" in text and "random" in text
    assert "  Hi! How are you doing today?  ->  " in out
    path, est = model_of(trained)
    assert est.task_name == "chat" and len(est.bank_) > 0


def test_evaluate_json_has_the_model_and_both_baselines(trained):
    path, est = model_of(trained)
    code, out, err = run(["evaluate", str(path), str(trained[0] / "pairs.csv"), "--json"])
    assert code == 0, err
    table = json.loads(out)
    assert len(table) == 3 and any("tfidf" in name.lower() for name in table)
    assert any("random" in name.lower() for name in table)
    for row in table.values():
        assert 0 <= row["recall@1"] <= row["recall@2"] <= row["recall@5"] <= 1 and row["n"] == 40


def test_predict_answers_each_line_from_the_bank(trained, tmp_path):
    path, est = model_of(trained)
    lines = tmp_path / "in.txt"
    lines.write_text("do you like pizza\n\ni love pizza with extra cheese <sep> my dog barks a lot\n")
    code, out, err = run(["predict", str(path), str(lines)])
    assert code == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["source"] for a in answers] == ["do you like pizza",
                                              "i love pizza with extra cheese <sep> my dog barks a lot"]
    assert all(a["reply"] in est.bank_ and isinstance(a["score"], float) for a in answers)
    reply, score = est.replies("my dog barks a lot", ["i love pizza with extra cheese"], k=1)[0]
    assert answers[1]["reply"] == reply and answers[1]["score"] == pytest.approx(score)


def test_split_turns():
    assert split_turns("a b <sep> c d") == ("c d", ["a b"])
    assert split_turns("hello") == ("hello", [])


def test_chat_answers_piped_messages_one_line_each(trained, monkeypatch):
    path, est = model_of(trained)
    code, out, err = run(["chat", str(path)], "do you like pizza\n\nwhat breed is your puppy\n/quit\n"
                         "never read\n", monkeypatch)
    assert code == 0, err
    replies = out.splitlines()
    assert len(replies) == 2 and all(r in est.bank_ for r in replies)
    assert replies[0] == est.reply("do you like pizza")
    args = ["chat", str(path), "--temperature", "2", "--seed", "3"]
    first = run(args, "pizza tonight ?\ndogs or cats ?\n", monkeypatch)[1]
    assert first == run(args, "pizza tonight ?\ndogs or cats ?\n", monkeypatch)[1]
    assert all(r in est.bank_ for r in first.splitlines())


def test_the_loop_keeps_the_last_turns_as_context(trained):
    _, est = model_of(trained)
    seen = []

    class Spy:
        def reply(self, message, context=None, **options):
            seen.append(context)
            return est.reply(message, context, **options)

    said = []
    pairs = retrieval_loop(Spy(), ["do you like pizza", "dogs or cats ?", "favourite band ?"], said.append,
                           turns=3)
    assert [r for _, r in pairs] == said and len(said) == 3
    (m1, r1), (m2, r2), _ = pairs
    assert seen == [None, [m1, r1], [r1, m2, r2]]  # the last 3 turns, oldest first
    seen.clear()
    retrieval_loop(Spy(), ["do you like pizza", "dogs or cats ?"], said.append, context=False)
    assert seen == [None, None]


def test_bad_messages_get_a_reply_or_one_line(trained, monkeypatch):
    path, est = model_of(trained)
    long = "pizza " * 20_000
    code, out, err = run(["chat", str(path)], f"   \nqwzx vbnm plkj\n{long}\n", monkeypatch)
    assert code == 0 and "Traceback" not in err
    replies = out.splitlines()
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(replies) + len(errors) == 2 and all(r in est.bank_ for r in replies)
    assert all(line.startswith("error: ") for line in errors)


@pytest.mark.parametrize("option, message", [
    (["--top-p", "0.9"], "error: rnnkit chat: --top-p: expected an option that a retrieval ChatModel takes"),
    (["--beam", "2"], "error: rnnkit chat: --beam: expected an option that a retrieval ChatModel takes"),
    (["--rerank-top", "0"], "error: rnnkit chat: rerank_top: expected an integer in [1, 1000]"),
    (["--seed", "-1"], "error: rnnkit chat: seed: expected an integer >= 0"),
    (["--temperature", "-1"], "error: rnnkit chat: temperature: expected a number >= 0"),
])
def test_a_bad_option_is_one_line(trained, monkeypatch, option, message):
    path, _ = model_of(trained)
    code, out, err = run(["chat", str(path), *option], "hi\n", monkeypatch)
    assert code == 2 and out == "" and err.startswith(message) and len(err.splitlines()) == 1, err


def test_rerank_needs_a_seq2seq_chat_model(trained, monkeypatch):
    path, _ = model_of(trained)
    code, _, err = run(["chat", str(path), "--rerank", str(path)], "hi\n", monkeypatch)
    assert code == 2 and len(err.splitlines()) == 1
    assert "expected a Seq2Seq chat model (task 'seq2seq'), got task 'chat'" in err


def test_rerank_with_a_generator_answers_from_the_bank(trained, monkeypatch, tmp_path):
    path, est = model_of(trained)
    rows = dialogue_pairs(120, 2, "train")
    s2s = rnnkit.Seq2Seq(hidden_size=16, embedding_dim=8, min_freq=1, epochs=1, seed=0, progress="none")
    s2s.fit([s for s, _, _ in rows], [t for _, t, _ in rows], dictionary=False)
    s2s_path = s2s.save(tmp_path / "gen.rnnkit")
    code, out, err = run(["chat", str(path), "--rerank", str(s2s_path), "--rerank-top", "3"],
                         "do you like pizza\nwhat breed is your puppy\n", monkeypatch)
    assert code == 0, err
    assert [r in est.bank_ for r in out.splitlines()] == [True, True]
    code, _, err = run(["chat", str(s2s_path), "--rerank-top", "3"], "hi\n", monkeypatch)
    assert code == 2 and "--rerank-top: expected an option that a Seq2Seq chat model takes" in err


def test_evaluate_the_chitchat_test_conversations_by_name(trained):
    pytest.importorskip("chitchat_dataset")
    path, _ = model_of(trained)
    code, out, err = run(["evaluate", str(path), "chitchat", "--json"])
    assert code == 0, err
    table = json.loads(out)
    assert len(table) == 3 and {row["n"] for row in table.values()} == {12442}
