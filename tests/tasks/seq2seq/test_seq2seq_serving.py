"""A Seq2Seq model behind rnnkit serve answers what translate() and reply() answer."""

import asyncio
import contextlib

import httpx

from rnnkit.serve import ServeConfig, create_app


@contextlib.asynccontextmanager
async def serving(estimators):
    app = create_app(ServeConfig(), estimators=estimators)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


def test_translate_and_reply_over_http(reversal_model):
    async def main():
        async with serving({"rev": reversal_model}) as c:
            tr = await c.post("/v1/models/rev/predict", json={"instances": [{"text": "a b c", "beam": 3}]})
            chat = await c.post("/v1/models/rev/predict", json={"instances": [
                {"text": "d e", "reply": True, "seed": 1, "temperature": 0.5}]})
            bad = await c.post("/v1/models/rev/predict", json={"instances": [{"text": "", "beam": 3}]})
            return tr, chat, bad

    tr, chat, bad = asyncio.run(main())
    assert tr.json()["predictions"][0]["output"] == reversal_model.translate(["a b c"], beam=3)[0]
    assert chat.json()["predictions"][0]["output"] == reversal_model.reply("d e", None, temperature=0.5, seed=1)
    assert bad.status_code == 422
