"""``rnnkit keygen``, ``rnnkit sign`` and ``rnnkit verify``: signed model files.

A model file's digest proves it is intact, not who made it; a signature by the
publisher's Ed25519 key proves origin to whoever trusts the public key
(:mod:`rnnkit.bundle.signing`). ``rnnkit serve --trusted-key`` and
``rnnkit.load(..., trusted_keys=...)`` refuse files without a valid signature.
"""

from __future__ import annotations

from pathlib import Path

import typer


def keygen(path: Path = typer.Argument(..., help="Where to write the private key (PEM, "
                                       "mode 0600); the public key goes to PATH.pub.")) -> None:
    """Create an Ed25519 key pair for signing model files (never overwrites a file).

    Example: rnnkit keygen ~/.rnnkit/publisher.key
    """
    from rnnkit.bundle import fingerprint, generate_key, load_public_key

    private, public = generate_key(path)
    typer.echo(f"wrote private key {private} (keep it secret) and public key {public} "
               f"({fingerprint(load_public_key(public))})")


def sign(model: Path = typer.Argument(..., help="Model file (.rnnkit) to sign in place."),
         key: Path = typer.Option(..., "--key", help="Private key written by rnnkit keygen.")
         ) -> None:
    """Verify a model file, then add a signature by KEY (the file is rewritten atomically;
    everything else in it is unchanged).

    Example: rnnkit sign model.rnnkit --key ~/.rnnkit/publisher.key
    """
    from rnnkit.bundle import sign_bundle

    who = sign_bundle(model, key)
    typer.echo(f"{model}: signed by {who}")


def verify(model: Path = typer.Argument(..., help="Model file (.rnnkit) to verify."),
           trusted_key: list[Path] = typer.Option(None, "--trusted-key", help="Public key "
                                                  "(.pub) the file must be signed by; "
                                                  "repeat for several.")) -> None:
    """Check a model file's digests and signature and print one line; exit status 2 if
    anything fails (or, with --trusted-key, if no trusted key signed it).

    Example: rnnkit verify model.rnnkit --trusted-key publisher.key.pub
    """
    from rnnkit.bundle import verify_bundle

    typer.echo(verify_bundle(model, trusted_keys=trusted_key or None).line(str(model)))


def register(app: typer.Typer) -> None:
    app.command("keygen")(keygen)
    app.command("sign")(sign)
    app.command("verify")(verify)
