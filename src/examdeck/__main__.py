"""`python -m examdeck`: the same as the `examdeck` command."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="examdeck")
