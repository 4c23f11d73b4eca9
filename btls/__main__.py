"""`btls` / `python -m btls`: run the bpftrace language server on stdio."""

from __future__ import annotations

import argparse

from . import __version__


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="btls", description="The bpftrace language server.")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("-V", "--version", action="version", version=f"btls {__version__}")
    parser.parse_args(argv)
    # Imported here so that `btls --version` does not pay for pygls.
    from .server import create_server

    create_server().start_io()


if __name__ == "__main__":
    main()
