"""An inspection's result: the arrays, the pictures drawn from them, and one HTML page.

:meth:`Inspection.save` writes into a folder

* ``NAME.png`` for every picture,
* ``arrays.npz`` with every array the pictures were drawn from (the numbers behind them),
* ``index.html``, self-contained (the PNGs are embedded as base64), with the input shown
  beside the pictures, so the page can be mailed or attached to a ticket as one file.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnkit.errors import DataError, problem


@dataclass
class Inspection:
    """``figures`` and ``captions`` are keyed by picture name (the PNG's stem); ``arrays``
    hold the values each picture shows; ``input_html`` is the input, already escaped."""

    title: str
    input_html: str
    summary: dict[str, str] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, figure, caption: str, **arrays: np.ndarray) -> None:
        self.figures[name] = figure
        self.captions[name] = caption
        for key, value in arrays.items():
            self.arrays[f"{name}.{key}"] = np.asarray(value)

    def save(self, out) -> dict[str, Path]:
        """Write the PNGs, ``arrays.npz`` and ``index.html`` into ``out``; returns their paths."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise DataError(problem("inspect: --out", expected="a folder", got=f"the file {out}",
                                    fix="choose a folder name"))
        out.mkdir(parents=True, exist_ok=True)
        paths, pngs = {}, {}
        for name, fig in self.figures.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=100)
            pngs[name] = buffer.getvalue()
            paths[name] = out / f"{name}.png"
            paths[name].write_bytes(pngs[name])
        paths["arrays"] = out / "arrays.npz"
        np.savez_compressed(paths["arrays"], **self.arrays)
        paths["html"] = out / "index.html"
        paths["html"].write_text(self._html(pngs), encoding="utf-8")
        return paths

    def _html(self, pngs: dict[str, bytes]) -> str:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self.summary.items())
        pictures = "".join(
            f'<figure id="{html.escape(n)}"><img alt="{html.escape(n)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode("ascii")}"><figcaption>{html.escape(self.captions[n])}'
            f"</figcaption></figure>" for n, png in pngs.items())
        return _PAGE.format(title=html.escape(self.title), summary=rows, input=self.input_html,
                            pictures=pictures)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; gap: 1.5em; }}
aside {{ position: sticky; top: 0; align-self: flex-start; width: 28em; max-height: 100vh;
        overflow: auto; padding: 1em; background: #f6f6f6; border-right: 1px solid #ddd; }}
main {{ flex: 1; padding: 1em; min-width: 0; }}
img {{ max-width: 100%; }} figure {{ margin: 0 0 2em 0; }}
figcaption {{ color: #444; font-size: 0.9em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }} th, td {{ text-align: left; padding: 2px 6px; }}
.tok {{ padding: 1px 2px; border-radius: 3px; }}
</style></head>
<body><aside><h2>Input</h2>{input}<h3>Model</h3><table>{summary}</table></aside>
<main><h1>{title}</h1>{pictures}</main></body></html>
"""
