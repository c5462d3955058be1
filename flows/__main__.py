"""`python -m flows …` runs the `reviews` command, for a venv whose scripts folder is not on PATH."""

from flows.entry import main

main()
