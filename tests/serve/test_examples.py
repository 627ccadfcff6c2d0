"""Each model's OpenAPI example fits the model: a chat bot gets a chat message, a
translator a text in its source language, a model of unknown words its own words."""

import pytest
from serve_helpers import run

import rnnkit
from rnnkit.serve import ServeConfig, create_app
from rnnkit.serve.adapters.examples import known_text, unknown_rate, vocabulary_text

EN = ["how are you ?", "i am tired .", "you are good .", "how old are you ?", "i am here ."] * 3
DE = ["wie geht es dir ?", "ich bin müde .", "du bist gut .", "wie alt bist du ?", "ich bin hier ."] * 3
TINY = dict(hidden_size=8, embedding_dim=8, epochs=1, batch_size=8, seed=0, progress="none")


@pytest.fixture(scope="module")
def translator():
    return rnnkit.Seq2Seq(**TINY).fit(EN, DE)  # English -> German


@pytest.fixture(scope="module")
def chat_bot():
    sources = [f"{a} <sep> {b}" for a, b in zip(EN, EN[1:] + EN[:1])]
    return rnnkit.Seq2Seq(**TINY).fit(sources, EN, dictionary=False)


def _examples(est) -> tuple[dict, dict]:
    """The request example and the 200 answer example of ``est``'s predict route."""
    async def go():
        app = create_app(ServeConfig(), estimators={"m": est})
        async with app.router.lifespan_context(app):
            spec = app.openapi()
        request = spec["components"]["schemas"]["PredictRequest_m"]["examples"][0]["instances"][0]
        answer = spec["paths"]["/v1/models/m/predict"]["post"]["responses"]["200"]
        return request, answer["content"]["application/json"]["example"]
    return run(go())


def test_translator_example_is_in_its_source_language(translator):
    request, answer = _examples(translator)
    assert request["text"] == "How are you?" and not request.get("reply")
    assert unknown_rate(translator.source_encoder_, request["text"]) == 0
    assert isinstance(answer["predictions"][0]["output"], str)


def test_chat_example_is_a_chat_message(chat_bot):
    request, answer = _examples(chat_bot)
    assert request["reply"] is True and request["text"] != "Wie geht es dir?"
    assert unknown_rate(chat_bot.source_encoder_, request["text"]) <= 0.25
    assert isinstance(answer["predictions"][0]["output"], str)


def test_text_classifier_of_other_words_gets_its_own_words():
    texts = ["zork blip", "blip blip zork", "quux frob", "frob quux quux"] * 3
    clf = rnnkit.TextClassifier(hidden_size=8, epochs=1, seed=0, progress="none")
    clf.fit(texts, ["a", "a", "b", "b"] * 3)
    request, answer = _examples(clf)
    assert unknown_rate(clf.encoder_, request["text"]) == 0
    assert answer["predictions"][0]["label"] in ("a", "b")


def test_known_text_prefers_the_best_known_candidate(translator):
    enc = translator.source_encoder_
    assert known_text(enc, ["Wie geht es dir?", "How are you?"]) == "How are you?"
    assert known_text(enc, ["Guten Tag"]) == vocabulary_text(enc)
    assert unknown_rate(enc, vocabulary_text(enc)) == 0
