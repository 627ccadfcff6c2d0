"""Bad data through the CLI: one clear line on stderr, exit status 2, never a traceback."""

import numpy as np
import pandas as pd
import pytest

import rnnkit
from rnnkit.cli.main import main


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    n = 120
    df = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"),
                       "y": np.sin(np.arange(n) / 3.0) + 5})
    f = rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, hidden_size=8, epochs=1)
    return f.fit(df, time="date", target="y").save(tmp_path_factory.mktemp("m") / "m.rnnkit"), df


def write(tmp_path, frame_or_text):
    path = tmp_path / "data.csv"
    if isinstance(frame_or_text, str):
        path.write_text(frame_or_text)
    else:
        frame_or_text.to_csv(path, index=False)
    return path


CASES = {
    "empty file": (lambda df: "", "is empty"),
    "renamed column": (lambda df: df.rename(columns={"y": "yy"}),
                       "lacks the column 'y' that this Forecaster was fitted with; the file has: date, yy"),
    "non-numeric": (lambda df: df.assign(y=df["y"].astype(object).where(df.index != 5, "oops")),
                    "expected numbers, got ['oops'] in rows [5]"),
    "NaN": (lambda df: df.assign(y=df["y"].where(df.index != 7)), "fill='interpolate'"),
    "too short": (lambda df: df.iloc[:5], "expected >= lookback"),
    "duplicate timestamps": (lambda df: pd.concat([df, df.iloc[[3]]]), "duplicate timestamps"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_bad_data(case, command, model_file, tmp_path, capsys):
    path, df = model_file
    make, message = CASES[case]
    data = write(tmp_path, make(df))
    code = main([command, str(path), str(data)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
