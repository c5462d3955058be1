"""`python -m flows …` runs the `reviews` command, for a venv whose scripts folder is not on PATH."""

from flows.cli import app

app(prog_name="reviews")
