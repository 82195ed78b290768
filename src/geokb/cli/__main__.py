"""``python -m geokb.cli``: the same as the ``geokb`` script."""

from geokb.cli.app import main

main()
