"""``python -m p2c.cli``: the same as the ``p2c`` command."""

from p2c.cli.app import main

main()
