"""`qianke` subcommands of the dedupe app. Imported before Django is set up: import models lazily."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the `qianke` parser (called by qianke.cli.build_parser)."""
