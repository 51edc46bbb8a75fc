"""`python -m partita` runs the CLI."""

from partita.cli.main import main

main()
