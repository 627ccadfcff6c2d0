"""The package's figures read on their own: a title, axis labels (with the target's name
where there is one), a legend where there are several lines, the forecast interval shaded."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import rnnkit
from rnnkit.inspect import figures, inspect as inspect_model
from rnnkit.tasks.core.report import Report
from rnnkit.tasks.forecast.plots import plot_backtest
from rnnkit.tasks.seq2seq.plots import attention_figure


def labelled(ax):
    return bool(ax.get_title() or ax.figure.axes[0].get_title()) and ax.get_xlabel() and ax.get_ylabel()


def test_series_plot_labels_and_shades_the_interval():
    L, H = 10, 3
    times = [f"2024-01-{d:02d}" for d in range(1, L + 1)]
    ahead = [f"2024-01-{d:02d}" for d in range(L + 1, L + H + 1)]
    point = np.full((H, 1), 5.0)
    fig = figures.series_plot(times, np.arange(L, dtype=float)[:, None], ahead, point, ["sales"],
                              "window", lower=point - 1, upper=point + 1, level=0.8)
    ax = fig.axes[0]
    assert ax.get_title() == "window" and ax.get_xlabel() == "time" and ax.get_ylabel() == "sales"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["sales (input)", "sales (forecast)", "sales (80% interval)"]


def test_heatmaps_and_gradient_name_both_axes():
    values = np.zeros((6, 4))
    assert labelled(figures.heatmap(values, "h", xlabel="time").axes[0])
    fig = figures.panels([("gate i", values, 0.0, 1.0), ("gate f", values, 0.0, 1.0)], "gates", xlabel="token")
    assert fig.axes[0].get_title() == "gates" and fig.axes[1].get_xlabel() == "token"
    assert all(ax.get_ylabel() for ax in fig.axes[:2])
    assert labelled(figures.gradient_plot(np.ones(6), "g", xlabel="input time").axes[0])
    assert figures.token_weights(["a", "b"], np.array([0.5, 0.5]), "w").axes[0].get_xlabel() == "token"


def test_attention_figure_and_report_plot_are_labelled():
    ax = attention_figure(["ich", "bin"], ["i", "am"], np.eye(2)).axes[0]
    assert ax.get_title() and ax.get_xlabel() == "source token" and ax.get_ylabel() == "output token"
    table = pd.DataFrame({"MAE": [1.0, 2.0]}, index=pd.Index(["rnnkit", "naive"], name="model"))
    fig = Report(table).plot("MAE")
    ax = fig.axes[0]
    assert ax.get_title() == "MAE by model" and ax.get_xlabel() == "MAE" and ax.get_ylabel() == "model"
    plt.close(fig)


def weather(n=80) -> pd.DataFrame:
    t = np.arange(n)
    return pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="D"),
                         "temp_max": 10 + 3 * np.sin(2 * np.pi * t / 7)})


@pytest.fixture(scope="module", params=["quantile", "point"])
def forecaster(request):
    # guard "keep": inspect draws the network's interval, which is predict's without a guard
    return rnnkit.Forecaster(lookback=14, horizon=4, ensemble=1, hidden_size=8, epochs=1, seed=0, progress="none",
                             likelihood=request.param, guard="keep").fit(weather(), time="date", target="temp_max")


def test_inspect_input_panel_names_the_target_and_shades_predicts_interval(forecaster):
    insp = inspect_model(forecaster, weather())
    ax = insp.figures["input"].axes[0]
    assert ax.get_ylabel() == "temp_max" and ax.get_xlabel() == "time" and ax.get_title()
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    if forecaster.config.likelihood == "point":
        assert not bands and "input.lower" not in insp.arrays
        return
    assert len(bands) == 1
    predicted = forecaster.predict(weather())
    np.testing.assert_allclose(insp.arrays["input.lower"][:, 0], predicted["temp_max_lower"], rtol=1e-5)
    np.testing.assert_allclose(insp.arrays["input.upper"][:, 0], predicted["temp_max_upper"], rtol=1e-5)


def test_backtest_plot_is_labelled(forecaster, tmp_path, monkeypatch):
    drawn, save = [], Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self) or save(self, *a, **k))
    plot_backtest(forecaster.evaluate(weather(), origins=2, baselines=("naive",)), tmp_path / "b.png",
                  baseline="naive")
    ax = drawn[0].axes[0]
    assert ax.get_title() and ax.get_xlabel() == "time" and ax.get_ylabel() == "temp_max"
    assert {"actual", "rnnkit", "naive"} <= {t.get_text() for t in ax.get_legend().get_texts()}
