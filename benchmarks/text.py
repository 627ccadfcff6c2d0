"""Every text benchmark in one command: sentiment (``text_classify.py``), the language model
(``lm.py``) and translation + chat (``seq2seq.py``), run one after the other with their
defaults, then their tables gathered into ``benchmarks/out/text.md``.

About two hours on two CPU cores (sentiment up to an hour: two runs of an ensemble of
three adversarially trained networks, 34 minutes a run measured on 1 thread; language
model ~12 min; translation and chat ~40 min). ``--collect`` skips the runs and only gathers the tables the three scripts
wrote last; ``--only NAME`` (repeatable) runs some of them.

    python benchmarks/text.py [--only text_classify|lm|seq2seq ...] [--collect]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
PARTS = {  # script -> (title, the markdown file it writes)
    "text_classify": ("Sentiment: fine-food reviews", "text_classify.md"),
    "lm": ("Language model: fortunes", "lm.md"),
    "seq2seq": ("Translation (Ding de-en) and chat (chit-chat)", "seq2seq.md"),
}


def run(names: list[str]) -> dict[str, float]:
    seconds = {}
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / f"{name}.py")], check=True)
        seconds[name] = time.perf_counter() - started
    return seconds


def collect(seconds: dict[str, float]) -> str:
    lines = ["# Text benchmarks", "", "Made by `python benchmarks/text.py`; each part is the "
             "output of its own script (see the docs pages for what each table means).", ""]
    for name, (title, md) in PARTS.items():
        path = OUT / md
        lines += [f"## {title}", "", f"`python benchmarks/{name}.py`"
                  + (f" ({seconds[name]:.0f} s in this run)" if name in seconds else ""), ""]
        if path.exists():
            body = path.read_text(encoding="utf-8").strip().splitlines()
            if body and body[0].startswith("# "):  # the part's own title
                body = body[1:]
            while body and not body[0].strip():
                body = body[1:]
            lines += [line.replace("## ", "### ", 1) if line.startswith("## ") else line
                      for line in body] + [""]
        else:
            lines += [f"(no {md} yet: run the script)", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(PARTS), default=None)
    parser.add_argument("--collect", action="store_true", help="gather the last tables, run nothing")
    args = parser.parse_args()
    seconds = {} if args.collect else run(args.only or list(PARTS))
    OUT.mkdir(parents=True, exist_ok=True)
    text = collect(seconds)
    (OUT / "text.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwrote {OUT / 'text.md'}")


if __name__ == "__main__":
    main()
