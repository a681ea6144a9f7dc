"""``python -m adapters.cli``: the ``casefile`` command."""

from adapters.cli.main import main

main()
