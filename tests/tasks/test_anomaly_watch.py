"""``rnnkit watch``: one JSON event per anomaly from a CSV or JSON-lines stream, the same
scores as batch detection, and clear messages on stderr (never a traceback) for bad input."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rnnkit.cli.watch import watch
from rnnkit.tasks.anomaly import AnomalyDetector

app = typer.Typer()
app.command()(watch)
runner = CliRunner()


pytestmark = pytest.mark.usefixtures("one_thread")


def sensor_frame(n=900, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"time": pd.date_range("2023-05-01", periods=n, freq="min").astype(str),
                         "temp": np.sin(2 * np.pi * t / 30) + 0.05 * rng.normal(size=n),
                         "load": np.cos(2 * np.pi * t / 45) + 0.05 * rng.normal(size=n)})


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    det = AnomalyDetector(hidden_size=16, epochs=6, window=24, burn_in=4)
    det.fit(sensor_frame(), time="time", columns=["temp", "load"])
    return det, det.save(tmp_path_factory.mktemp("watch") / "sensors.rnnkit")


def run(model_path, text, *args):
    return runner.invoke(app, [str(model_path), "--input", "-", *args], input=text)


def test_csv_stream_prints_one_event_per_anomaly(model):
    det, path = model
    data = sensor_frame(1500, seed=1)
    data.loc[1200, "load"] += 3.0
    result = run(path, data.to_csv(index=False))
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events and all(e["anomaly"] for e in events)
    hit = [e for e in events if e["index"] == 1200]
    assert hit and hit[0]["channels"] == ["load"] and hit[0]["time"] == data.time[1200]
    assert hit[0]["line"] == 1202  # header + 0-based index
    assert set(hit[0]) == {"line", "index", "time", "score", "threshold", "anomaly", "channels", "shares"}
    expected = det.detect(data.assign(time=pd.to_datetime(data.time))).points
    flagged = expected.index[expected.anomaly].tolist()
    assert [e["index"] for e in events] == flagged


def test_every_step_scores_equal_batch_from_a_file(model, tmp_path):
    det, path = model
    data = sensor_frame(2000, seed=2)
    file = tmp_path / "in.csv"
    data.to_csv(file, index=False)
    result = runner.invoke(app, [str(path), "--input", str(file), "--every-step"])
    assert result.exit_code == 0, result.stderr
    scores = [json.loads(line)["score"] for line in result.stdout.splitlines()]
    expected = det.detect(data.assign(time=pd.to_datetime(data.time))).points.score.to_numpy()
    got = np.array([np.nan if s is None else s for s in scores])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_json_lines_without_time(model):
    _, path = model
    data = sensor_frame(300)
    lines = "".join(json.dumps({"temp": a, "load": b}) + "\n" for a, b in zip(data.temp, data.load))
    result = run(path, lines, "--every-step")
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[-1])
    assert first["index"] == 299 and "time" not in first


@pytest.mark.parametrize("bad_line,message", [
    ("2023-05-01 00:10:00,abc,1.0", "line 12: channel 'temp': expected a number, got 'abc'"),
    ("2023-05-01 00:10:00,nan,1.0", "line 12: channel 'temp': expected a finite number, got 'nan'"),
    ("2023-05-01 00:10:00,,1.0", "line 12: channel 'temp': expected a number, got ''"),
    ("2023-05-01 00:10:00,1.0", "line 12: expected 3 CSV fields (time, temp, load), got 2"),
    ("2023-05-01 00:09:00,1.0,1.0", "line 12: duplicate timestamp 2023-05-01 00:09:00"),
    ("2023-05-01 00:01:00,1.0,1.0", "line 12: timestamp 2023-05-01 00:01:00 goes back in time"),
])
def test_bad_lines_are_skipped_or_stop(model, bad_line, message):
    _, path = model
    lines = sensor_frame(40).to_csv(index=False).splitlines()
    text = "\n".join(lines[:11] + [bad_line] + lines[11:]) + "\n"
    skipped = run(path, text, "--every-step")
    assert skipped.exit_code == 0
    assert f"warning: {message}" in skipped.stderr and "; skipped" in skipped.stderr
    assert "Traceback" not in skipped.stderr
    assert len(skipped.stdout.splitlines()) == 40  # every good line, the bad one left out
    stopped = run(path, text, "--every-step", "--on-error", "stop")
    assert stopped.exit_code == 2
    assert f"error: {message}" in stopped.stderr and "stopped (--on-error stop)" in stopped.stderr
    assert len(stopped.stdout.splitlines()) == 10


@pytest.mark.parametrize("text,message", [
    ("", "error: input is empty: no header and no data line"),
    ("\n\n", "error: input is empty"),
    ("time,temp,lod\n1,2,3\n", "error: CSV header (line 1) has no column 'load'; did you mean 'lod'?"),
    ("time,temp,load\n2023-05-01,1,2\n", "error: input ended after 1 usable step; the detector needs "
                                         "at least max(burn_in, horizons) + 1 = 5"),
    ('{"temp": 1, "load": 2}\n[1, 2]\n{"temp": 1}\n',
     "line 2: expected a JSON object of channel values, got list"),
    ('{"temp": 1, "load": 2}\n{"temp": 1, "lod": 2}\n', "line 2: step values: missing channel 'load'; "
                                                        "got keys ['temp', 'lod'] (did you mean 'lod'?"),
    ('{"temp": 1, "load": 2\n', "line 1: not valid JSON"),
])
def test_unusable_input_is_one_clear_message(model, text, message):
    _, path = model
    result = run(path, text)
    assert message in result.stderr
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_bad_model_or_input_path(model, tmp_path):
    _, path = model
    result = runner.invoke(app, [str(path), "--input", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "input file" in result.stderr and "does not exist" in result.stderr
    result = runner.invoke(app, [str(tmp_path / "nope.rnnkit")])
    assert result.exit_code == 2 and "error:" in result.stderr and "Traceback" not in result.stderr
    result = runner.invoke(app, [str(path), "--on-error", "ignore"], input="")
    assert result.exit_code == 2 and "--on-error must be one of skip, stop" in result.stderr


def test_not_an_anomaly_model(tmp_path):
    import rnnkit

    f = rnnkit.Forecaster(lookback=7, horizon=2, ensemble=1, hidden_size=4, epochs=1, calendar=False)
    n = 60
    f.fit(pd.DataFrame({"d": pd.date_range("2020", periods=n), "y": np.arange(n, dtype=float)}),
          time="d", target="y")
    result = runner.invoke(app, [str(f.save(tmp_path / "f.rnnkit"))], input="")
    assert result.exit_code == 2 and "holds a 'forecast' model" in result.stderr


def test_help_shows_an_example():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "Example: rnnkit watch" in result.stdout
