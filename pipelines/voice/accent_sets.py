"""Sentences for the accents' intelligibility checks that the accent rules were never tuned on.

The accent rules (``accents.py``) were tuned on ``measure.EVERYDAY_SENTENCES`` and
``measure.SECOND_TUNING_SENTENCES``; ``measure.HELD_OUT_SENTENCES`` had been looked at before
the rules were made lighter (issue 12). These were written before that change and their
per-sentence results were not looked at while tuning: the accents' WER is reported on them.
"""

from __future__ import annotations

ACCENT_HELD_OUT_SENTENCES = (
    "What time does the pharmacy open on Saturday?",
    "Maria bought twelve apples and three loaves of bread.",
    "Call me back.",
    "Is this the right platform for the train to Boston?",
    "Thomas has lived in the same apartment for twenty five years.",
    "The meeting starts at half past nine, so please don't be late.",
    "How much does it cost to rent a car for a week?",
    "I think the kettle is broken again.",
    "Our daughter turned seven last Tuesday and wanted a chocolate cake.",
    "Can you help me carry these boxes upstairs?",
    "David and Sarah are getting married in June.",
    "The hotel is about fifteen minutes from the beach by taxi.",
    "Turn left at the traffic lights and then keep going straight.",
    "Why didn't anyone tell me the office was closed yesterday?",
)
"""Fourteen everyday sentences (questions, numbers in words, names, short and long)."""
