"""examdeck: exam content to spaced-repetition flashcards for Anki."""

__version__ = "0.1.0"
