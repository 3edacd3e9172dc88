"""``python -m appmult`` runs the command line."""

from appmult.cli import main

main()
