"""Serving a retrieval ChatModel: predict answers equal ``replies``, sessions keep a bounded
context, a refused step changes nothing, bad input is a 4xx."""

from __future__ import annotations

import random

import pytest
from serve_helpers import example, run, serving

import rnnkit
from rnnkit.serve.adapters.chat import EXAMPLES, MAX_CONTEXT_CHARS, MAX_TEXT_CHARS, SESSION_TURNS, Conversation

TOPICS = {
    "pizza": (["do you like pizza", "what pizza do you eat", "pizza tonight ?"],
              ["i love pizza with extra cheese", "pepperoni pizza is the best", "pizza every friday"]),
    "dogs": (["do you have a dog", "what breed is your puppy", "dogs or cats ?"],
             ["my dog is a golden retriever", "i walk my puppy every morning", "dogs are loyal"]),
    "books": (["do you like to read books", "how are you doing today ?", "any book to recommend ?"],
              ["i am reading a fantasy novel", "books before bed relax me", "i am fine , reading a book"]),
}


@pytest.fixture(scope="module")
def bot_file(tmp_path_factory):
    rng = random.Random(0)
    messages, replies = [], []
    for _ in range(200):
        ms, rs = TOPICS[rng.choice(sorted(TOPICS))]
        messages.append(rng.choice(ms))
        replies.append(rng.choice(rs))
    m = rnnkit.ChatModel(hidden_size=12, embedding_dim=12, vector_size=12, min_freq=1, epochs=2,
                         batch_size=16, seed=0, progress="none")
    return m.fit(messages, replies).save(tmp_path_factory.mktemp("models") / "bot.rnnkit")


def test_predict_equals_replies(bot_file):
    m = rnnkit.load(bot_file)
    instances = [{"text": "do you like pizza"},
                 {"text": "dogs or cats ?", "context": ["i love pizza with extra cheese"], "k": 3},
                 {"text": "any book to recommend ?", "k": 4, "temperature": 1.0, "seed": 7, "diversity": 0.5}]

    async def main():
        async with serving(models={"bot": str(bot_file)}) as c:
            return (await c.post("/v1/models/bot/predict", json={"instances": instances})).json()

    got = run(main())["predictions"]
    for instance, answer in zip(instances, got):
        options = {k: v for k, v in instance.items() if k not in ("text", "context")}
        want = m.replies(instance["text"], instance.get("context"), **options)
        assert [(c["text"], pytest.approx(c["score"], abs=1e-5)) for c in answer["candidates"]] == want
        assert answer["reply"] == answer["candidates"][0]["text"] and answer["reply"] in m.bank_
    assert [len(a["candidates"]) for a in got] == [5, 3, 4]


def test_a_session_keeps_the_last_turns_as_context(bot_file):
    m = rnnkit.load(bot_file)
    said = ["do you like pizza", "what breed is your puppy", "any book to recommend ?"]

    async def main():
        async with serving(models={"bot": str(bot_file)}) as c:
            sid = (await c.post("/v1/models/bot/sessions", json={"turns": 2})).json()["session_id"]
            out = []
            for text in said:
                r = await c.post(f"/v1/models/bot/sessions/{sid}/step", json={"text": text})
                assert r.status_code == 200, r.text
                out.append(r.json())
            return out

    answers = run(main())
    assert [a["turns"] for a in answers] == [2, 2, 2]
    first = m.reply(said[0])
    second = m.reply(said[1], [said[0], first])
    third = m.reply(said[2], [said[1], second])  # 2 turns kept: the last message and reply
    assert [a["reply"] for a in answers] == [first, second, third]


def test_a_refused_step_changes_nothing(bot_file):
    m = rnnkit.load(bot_file)

    async def main():
        async with serving(models={"bot": str(bot_file)}) as c:
            sid = (await c.post("/v1/models/bot/sessions")).json()["session_id"]
            url = f"/v1/models/bot/sessions/{sid}/step"
            first = (await c.post(url, json={"text": "do you like pizza"})).json()
            refused = [await c.post(url, json=body) for body in
                       [{"text": "   "}, {"text": ""}, {"text": "x" * (MAX_TEXT_CHARS + 1)},
                        {"text": "hi", "k": 0}, {"text": "hi", "k": 21}, {"text": "hi", "context": ["a"]},
                        {"text": "hi", "temperature": -1}, {"values": [1]},
                        {"text": "hi <sep>"}]]  # the last one refused by the model, in the batch
            after = (await c.post(url, json={"text": "dogs or cats ?"})).json()
            return first, refused, after

    first, refused, after = run(main())
    assert [r.status_code for r in refused] == [422] * 9
    assert "expected a message with at least one word" in refused[0].json()["error"]["message"]
    assert after["turns"] == 4  # the refused steps added nothing
    assert after["reply"] == m.reply("dogs or cats ?", ["do you like pizza", first["reply"]])


def test_odd_messages_get_a_reply_from_the_bank_or_a_4xx(bot_file):
    m = rnnkit.load(bot_file)
    bodies = [{"text": "qwzx vbnm plkj"}, {"text": "pizza " * 800}, {"text": "?!"},
              {"text": "hi", "context": ["z" * (MAX_TEXT_CHARS + 1)]}, {"text": "hi", "context": [""] * 40},
              {"text": "hi <sep>"}, {"text": "<sep> <sep>"}]

    async def main():
        async with serving(models={"bot": str(bot_file)}) as c:
            return [await c.post("/v1/models/bot/predict", json={"instances": [b]}) for b in bodies]

    for body, r in zip(bodies, run(main())):
        assert r.status_code in (200, 422), (body, r.text)
        if r.status_code == 200:
            assert r.json()["predictions"][0]["reply"] in m.bank_
        else:
            assert "Traceback" not in r.text and r.json()["error"]["message"]
    assert [r.status_code for r in run(main())][:4] == [200, 200, 200, 422]


def test_a_session_context_is_bounded_in_characters():
    talk = Conversation(keep=10)
    for i in range(10):
        talk.add("m" * 1500, f"reply {i}")
    assert sum(map(len, talk.turns)) <= MAX_CONTEXT_CHARS and talk.turns[-1] == "reply 9"
    assert len(talk.turns) < 10
    copy = talk.copy()
    copy.add("more")
    assert "more" not in talk.turns
    none = Conversation(keep=0)
    none.add("a", "b")
    assert none.turns == []


def test_openapi_example_is_a_chat_message(bot_file):
    async def main():
        async with serving(models={"bot": str(bot_file)}) as c:
            request = example(c, "PredictRequest_bot")["instances"][0]
            described = (await c.get("/v1/models")).json()
            answered = await c.post("/v1/models/bot/predict", json={"instances": [request]})
            return request, described, answered

    request, described, answered = run(main())
    assert request["text"] in EXAMPLES and answered.status_code == 200
    model = next(d for d in described["models"] if d["name"] == "bot")
    assert model["task"] == "chat" and model["sessions"] is True and model["bank"] > 0
    assert SESSION_TURNS >= 2
