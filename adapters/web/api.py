"""The JSON API's commands, /api/v1: one route per declared command
(adapters.commands.catalog), each running it through the one command path
(adapters.web.commands.run). The reads are in reads.py, network.py and plans.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from adapters.commands.catalog import COMMANDS, Command
from adapters.web.commands import Submission, run

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _route(command: Command) -> None:
    def view(**url: Any):
        return run(command, url, Submission.from_request())

    view.__name__ = command.name
    view.__doc__ = command.summary
    bp.add_url_rule(command.path, command.name, view, methods=[command.method])


for _command in COMMANDS:
    _route(_command)
