"""64 everyday messages, 8 per core emotion, written for judging the dialogue *replies*
(not the understanding sentences of ``sentences.py``).

Each entry: (message, intended core emotion, bad news). "Bad news" marks a message where a
cheerful reply would hurt (loss, fear, anger, disgust, scorn, a bad surprise). Within each
emotion the first four are the tuning part (prompts, few-shot examples, judge thresholds were
adjusted while looking at them) and the last four are held out (looked at only to report).
"""

from __future__ import annotations

EVERYDAY: tuple[tuple[str, str, bool], ...] = (
    # neutral
    ("I'm going to repaint the kitchen this weekend.", "neutral", False),
    ("We moved the team meeting to Thursday morning.", "neutral", False),
    ("I started reading a book about the history of bridges.", "neutral", False),
    ("My sister is visiting next week for a few days.", "neutral", False),
    ("I switched my phone plan to a cheaper one.", "neutral", False),
    ("I'm thinking about learning to cook Indian food.", "neutral", False),
    ("The bus to work takes forty minutes now that they changed the route.", "neutral", False),
    ("I rearranged my desk so it faces the window.", "neutral", False),
    # happy
    ("I ran my first marathon today and finished in under four hours!", "happy", False),
    ("My best friend just had a baby girl and I'm going to be her godmother!", "happy", False),
    ("I finally paid off my student loans this morning.", "happy", False),
    ("We adopted a kitten from the shelter and she's already purring on my lap.", "happy", False),
    ("I got promoted to team lead today!", "happy", False),
    ("My son read his first whole book by himself tonight.", "happy", False),
    ("The biopsy came back clear, I'm so relieved and happy.", "happy", False),
    ("My painting was chosen for the town art show!", "happy", False),
    # sad
    ("My grandmother passed away on Sunday and I keep thinking about her.", "sad", True),
    ("My dog died this morning.", "sad", True),
    ("My best friend moved to another country and I feel so alone.", "sad", True),
    ("I didn't get into the university I really wanted.", "sad", True),
    ("My marriage is ending and I don't know how to tell the kids.", "sad", True),
    ("Nobody remembered my birthday this year.", "sad", True),
    ("I had to give my cat away because my new flat doesn't allow pets.", "sad", True),
    ("My dad's memory is getting worse and he didn't recognise me today.", "sad", True),
    # angry
    ("My landlord raised the rent again without fixing the broken heating.", "angry", True),
    ("Someone scratched my car in the parking lot and just drove off.", "angry", True),
    ("My manager took credit for my project in front of everyone.", "angry", True),
    ("The airline lost my luggage and nobody will tell me anything.", "angry", True),
    ("My neighbour plays loud music every night until 2 am and I'm so angry.", "angry", True),
    (
        "My brother borrowed money and now pretends he never did, it makes me furious.",
        "angry",
        True,
    ),
    ("The repair shop charged me twice for the same job and won't refund it.", "angry", True),
    ("My roommate ate the birthday cake I made for my mum, I'm livid.", "angry", True),
    # fearful
    ("I have a job interview tomorrow and I'm really nervous.", "fearful", True),
    ("The doctor found a lump and I have to wait two weeks for the results.", "fearful", True),
    ("I heard someone trying to open my front door last night.", "fearful", True),
    ("I'm scared I'll fail my driving test on Friday.", "fearful", True),
    ("My flight is tomorrow and I'm terrified of flying.", "fearful", True),
    ("There are rumours of layoffs at work and I'm worried I'll lose my job.", "fearful", True),
    ("My daughter is two hours late and she isn't answering her phone.", "fearful", True),
    ("I have to give a speech at my brother's wedding and I'm anxious about it.", "fearful", True),
    # surprised
    ("My old teacher recognised me on the street after twenty years!", "surprised", False),
    ("I just found out I won a raffle I forgot I entered!", "surprised", False),
    ("Wow, my shy brother just announced he's getting married next month!", "surprised", False),
    ("My boss quit out of nowhere this morning, I didn't see it coming.", "surprised", True),
    ("I can't believe my parents are selling the house I grew up in.", "surprised", True),
    ("I opened the door and all my friends were there for a surprise party!", "surprised", False),
    ("I just learned I have a half-sister I never knew about.", "surprised", False),
    ("The quiet guy at work turned out to be a famous chess champion.", "surprised", False),
    # disgusted
    ("I found mould all over the bread I just made a sandwich with.", "disgusted", True),
    ("The restaurant toilet was so filthy I walked straight out.", "disgusted", True),
    ("My coworker clips his nails at his desk during lunch, it's gross.", "disgusted", True),
    ("There was a hair baked into my pizza and it made me feel sick.", "disgusted", True),
    ("The fridge at work smells rotten, someone left fish in there for weeks.", "disgusted", True),
    ("I stepped in dog mess on my way to an important meeting, yuck.", "disgusted", True),
    ("The hotel sheets had stains on them, it was revolting.", "disgusted", True),
    ("I saw a cockroach crawl out of the salad bar at lunch.", "disgusted", True),
    # contemptuous
    ("My cousin brags about his car all the time, he's so pathetic.", "contemptuous", True),
    (
        "The new manager is a clueless amateur who can't even use a spreadsheet.",
        "contemptuous",
        True,
    ),
    ("Those people who cut the queue think they're better than everyone.", "contemptuous", True),
    (
        "My classmate copied my essay and acts like he's a genius, what a loser.",
        "contemptuous",
        True,
    ),
    ("The so-called experts on TV don't know anything about real life.", "contemptuous", True),
    ("My ex's new boyfriend is a spineless show-off.", "contemptuous", True),
    ("Our council is run by incompetent clowns who waste our money.", "contemptuous", True),
    ("That influencer's advice is laughable, she has never worked a day.", "contemptuous", True),
)
"""(message, intended emotion, bad news)."""

TUNING = tuple(e for i, e in enumerate(EVERYDAY) if i % 8 < 4)
HELD_OUT = tuple(e for i, e in enumerate(EVERYDAY) if i % 8 >= 4)

FRESH: tuple[tuple[str, str, bool], ...] = (
    ("I'm going to start walking to work instead of driving.", "neutral", False),
    ("We're having pasta for dinner tonight.", "neutral", False),
    ("I signed up for an evening pottery class.", "neutral", False),
    ("My niece just passed her driving test on the first try!", "happy", False),
    ("We finally moved into our own house this weekend.", "happy", False),
    ("My garden tomatoes are finally ripe and they taste amazing.", "happy", False),
    ("My best friend forgot to come to my graduation.", "sad", True),
    ("I had to put my old horse down yesterday.", "sad", True),
    ("My team lost the final and it was my missed penalty.", "sad", True),
    ("The delivery driver threw my parcel over the fence and broke it.", "angry", True),
    ("My coworker keeps interrupting me in every single meeting.", "angry", True),
    ("The bank froze my account for no reason and I can't pay rent.", "angry", True),
    ("My son has a high fever and the clinic is closed until Monday.", "fearful", True),
    ("I keep hearing scratching noises inside the wall at night.", "fearful", True),
    ("I start a new job on Monday and I don't know anyone there.", "fearful", True),
    ("My grandfather just told me he was a jazz pianist in the sixties!", "surprised", False),
    ("The package I thought was lost showed up after three months.", "surprised", False),
    ("My quiet neighbour turned out to be a famous novelist.", "surprised", False),
    ("Someone sneezed right onto my plate at the buffet.", "disgusted", True),
    ("The gym showers were full of hair and slime.", "disgusted", True),
    ("I bit into an apple and found half a worm.", "disgusted", True),
    ("My brother-in-law thinks he knows everything about every topic.", "contemptuous", True),
    ("That salesman talked down to me like I was a child.", "contemptuous", True),
    ("Our new neighbour sneers at anyone without a fancy car.", "contemptuous", True),
)
"""24 more messages, 3 per emotion: the fresh held-out part. Written on 2026-12-02 after the
held-out part had been looked at (while the bridge went in), before any later change, and
not looked at while tuning those changes."""

FRESH2: tuple[tuple[str, str, bool], ...] = (
    ("I'm picking up a new library card this afternoon.", "neutral", False),
    ("We changed our internet provider last week.", "neutral", False),
    ("I won tickets to see my favourite band next month!", "happy", False),
    ("My daughter took her first steps this morning.", "happy", False),
    ("My childhood dog is getting too old to go on walks.", "sad", True),
    ("I wasn't invited to my cousin's wedding.", "sad", True),
    ("The mechanic kept my car for a week and didn't fix anything.", "angry", True),
    ("My flatmate used all the hot water again before my shift.", "angry", True),
    ("My mum's test results come back tomorrow and I can't sleep.", "fearful", True),
    ("There's a storm warning and our roof already leaks.", "fearful", True),
    ("I found a twenty-pound note in an old coat I haven't worn in years.", "surprised", False),
    ("My shy little brother just got the lead role in the school play!", "surprised", False),
    ("The hostel kitchen had maggots in the bin and plates covered in grease.", "disgusted", True),
    ("A man on the train was picking his teeth and wiping it on the seat.", "disgusted", True),
    (
        "My manager thinks reading one article makes him an expert on everything.",
        "contemptuous",
        True,
    ),
    ("Those tourists treat the waiters like servants.", "contemptuous", True),
)
"""16 more messages, 2 per emotion: a second fresh held-out part, written on 2026-12-02 (stop
22) before the changes to the judge's follow-up, bad-news and mourning words, and measured
only before and after them (``benchmarks/dialogue_replies.py --part fresh2``)."""
