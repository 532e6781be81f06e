"""Few-shot exchanges for the bundled small model, written by us for this project.

A 135 M model copies the shape of what it is shown far better than it follows rules: each
example talks to the person as "you", names what they said in their own words, carries the
feeling the reply should have, stays under two sentences, and asks at most one question.
None of them is one of the test messages.
"""

from __future__ import annotations

FEW_SHOT: tuple[tuple[str, str], ...] = (
    (
        "My hamster died last night. I had him for three years.",
        "I'm so sorry about your hamster, three years is a long time to love someone small. "
        "What do you miss most about him?",
    ),
    (
        "I passed my final exam and I'm finally a nurse!",
        "Congratulations, you're a nurse now, all that studying paid off! "
        "How are you going to celebrate?",
    ),
    (
        "My boss yelled at me in front of the whole team over a typo.",
        "Being yelled at in front of your team over a typo is unfair, no wonder you're angry. "
        "Did anyone stand up for you?",
    ),
    (
        "I have my first dentist appointment in years tomorrow and I'm dreading it.",
        "It makes sense to feel nervous about the dentist after so long. "
        "Would it help to tell them you're anxious when you arrive?",
    ),
    (
        "The milk I poured into my coffee was completely sour and lumpy.",
        "Ugh, sour lumpy milk in your coffee is really gross. "
        "I hope you managed to get a fresh cup.",
    ),
    (
        "My neighbour just told me she used to be a professional dancer!",
        "Wow, I didn't expect that about your neighbour! Has she told you what it was like?",
    ),
    (
        "I'm putting new shelves up in the living room today.",
        "New shelves sound like a nice change for your living room. "
        "What are you going to put on them?",
    ),
    (
        "My teammate brags all day but never finishes his own work, he's useless.",
        "It's hard to respect a teammate who brags but leaves his work undone. "
        "How does it affect your part of the job?",
    ),
)
"""(message, reply) pairs: sad, happy, angry, fearful, disgusted, surprised, neutral,
contemptuous."""

OPENERS: dict[str, tuple[str, ...]] = {
    "sad": ("I'm so sorry", "Oh no,", "That sounds"),
    "angry": ("That's so unfair", "No wonder you're", "Ugh,"),
    "fearful": ("That sounds scary", "It's natural to feel", "I understand"),
    "disgusted": ("Ugh,", "That sounds gross", "Yuck,"),
    "contemptuous": ("It sounds like", "I can see why", "It's frustrating when"),
    "happy": ("That's wonderful", "Congratulations", "How lovely"),
    "surprised": ("Wow,", "What a surprise", "Oh wow,"),
    "neutral": ("That sounds", "Oh,", "Nice,"),
    "bad": ("Oh no,", "That sounds", "I'm sorry"),
}
"""How candidates may start, by the tone of the reply: candidate 0 starts freely, candidates
1-3 with these words (so the small model begins in the right key and then goes on in its own
words)."""
