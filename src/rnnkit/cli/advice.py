"""Error advice for the person at the shell.

The library words a fix for Python callers (``pass the file's encoding, e.g.
encoding="latin-1"``). When the command that failed has a flag of the same name, the CLI
prints the flag instead (``--encoding latin-1``), so the advice can be followed as written.
"""

from __future__ import annotations

import re

KEYWORDS = ("encoding",)  # keyword arguments that commands also take as --flags


def for_the_shell(message: str, flags: set[str]) -> str:
    """``message`` with ``keyword="value"`` advice rewritten as ``--keyword value`` for each
    keyword of :data:`KEYWORDS` whose flag is in ``flags``."""
    for keyword in KEYWORDS:
        flag = "--" + keyword.replace("_", "-")
        if flag in flags:
            message = re.sub(rf"\b{keyword}=([\"'])([^\"']*)\1", rf"{flag} \2", message)
    return message


def command_flags(group, argv: list[str]) -> set[str]:
    """The option names of the (sub)command of the click ``group`` that ``argv`` runs (empty
    when none is found)."""
    command = group
    for token in argv:
        if getattr(command, "commands", None) is None:
            break
        if token.startswith("-"):
            continue
        command = command.commands.get(token)
        if command is None:
            return set()
    return {opt for param in command.params for opt in getattr(param, "opts", [])}
