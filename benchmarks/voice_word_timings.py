"""Voice word timings against an independent aligner: every written word timed, and where.

    .venv/bin/python benchmarks/voice_word_timings.py [--emotion angry] [--accent us]

For each sentence set (``tuned``: the sentences the word alignment was built and tuned on;
``heldout``: written before the alignment was first run on them, never tuned on), the Piper
voice speaks each text and the word timings are checked:

- structure: the timed words equal the text's words (as the subtitles show them) in order, each
  lasts > 0 s, they do not overlap, and they end inside the audio (words lost or extra, and
  sentences failing any check, are counted);
- agreement: pocketsphinx (its bundled US-English model, a different acoustic model from the
  voice's) force-aligns what espeak-ng made the voice say ("2024" → "two thousand twenty four")
  to the same audio; per word, the distance between our start/end and its start/end (median and
  90th percentile, ms), and the share of our words whose middle lies inside its span of the same
  word (± 20 ms). Sentences with Devanagari words are not judged (the model is English only);
- speed: the time phonemising the sentences takes (espeak-ng, each word alone, the alignment)
  ÷ the audio's length.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import statistics
import time
from typing import Any

import numpy as np

from pipelines.base import LoadSettings
from pipelines.media import AudioClip, TimedUnit
from pipelines.voice.accents import ACCENTS
from pipelines.voice.codeswitch import phonemize_sentence
from pipelines.voice.measure import resample
from pipelines.voice.piper import PiperBackend
from pipelines.voice.request import VoiceRequest
from pipelines.voice.text import sentences_of

# Each text with its words as the subtitles should show them; "shown=spoken_words" gives what
# the judge hears for a word (default: the word in lower case); "shown=" marks a word it skips.
TUNED = (
    (
        "I can't believe you did this to me, I am furious!",
        "I can't believe you did this to me I am furious",
    ),
    (
        "In 2024 we paid $15.50 to Dr. Smith, e.g. for a well-known X-ray.",
        "In 2024=two_thousand_twenty_four we paid $15.50=dollar_fifteen_point_five_zero to "
        "Dr=doctor Smith e.g.=for_example for a well-known X-ray",
    ),
    (
        "Mr. Jones said it's 3:45 p.m. and I'd go.",
        "Mr=mister Jones said it's 3:45=three_forty_five p.m.=p_m and I'd go",
    ),
    (
        "You & me, 50% of the time, and/or the 1990s.",
        "You &=and me 50%=fifty_percent of the time and/or=and_slash_or the "
        "1990s=nineteen_hundred_ninety_z",
    ),
    (
        "St. Louis is a city, i.e. a place, vs. the U.S. as a whole.",
        "St=saint Louis is a city i.e.=i_e a place vs=v_s the U.S.=u_s as a whole",
    ),
    (
        "I am, I'm, you are, they're and he is here.",
        "I am I'm you are they're and he is here",
    ),
    (
        "नमस्ते दोस्तों, let's talk about it, मैं बहुत खुश हूँ।",
        "नमस्ते= दोस्तों= let's talk about it मैं= बहुत= खुश= हूँ=",
    ),
    (
        "Come on, let's go to the e-mail co-op at 9 a.m. Yes, I am.",
        "Come on let's go to the e-mail co-op at 9=nine a.m.=a_m Yes I am",
    ),
)
HELD_OUT = (
    (
        "We'll meet at No. 10 Downing St. on Jan. 5th, won't we?",
        "We'll meet at No 10=ten Downing St=saint on Jan 5th=fifth won't we",
    ),
    (
        "The well-to-do man-of-war sailed 3,000 miles in 1887; it wasn't easy.",
        "The well-to-do=well_to_do man-of-war=man_of_war sailed 3000=three_thousand miles in "
        "1887=one_thousand_eight_hundred_eighty_seven it wasn't easy",
    ),
    (
        "Hey, hey, hey! I said I am not, I am NOT going, OK?",
        "Hey hey hey I said I am not I am NOT going OK=okay",
    ),
    (
        "Prof. Lee's lab got $2.5 million, i.e. about 40% more than last year's.",
        "Prof Lee's lab got $2.5=dollar_two_point_five million i.e.=i_e "
        "about 40%=forty_percent more than last year's",
    ),
    (
        "आज मौसम अच्छा है, so we'll go to the park at 4 pm, फिर घर जाएंगे।",
        "आज= मौसम= अच्छा= है= so we'll go to the park at 4=four pm=p_m फिर= घर= जाएंगे=",
    ),
    (
        "Wait. Stop! Why? Because I am tired, and you're late, and it's 11:59.",
        "Wait Stop Why Because I am tired and you're late and it's 11:59=eleven_fifty_nine",
    ),
)
SETS = {"tuned": TUNED, "heldout": HELD_OUT}
SLACK = 0.02
EXTRA_WORDS = {"prof": "P R AA F"}  # what espeak-ng says that the judge's dictionary lacks


def expected(spec: str) -> list[tuple[str, list[str]]]:
    """(shown word, the judge's words for it) from a spec string."""
    out = []
    for item in spec.split(" "):
        shown, _, spoken = item.partition("=")
        words = spoken.split("_") if spoken else ([] if "=" in item else [shown.lower()])
        out.append((shown, words))
    return out


def judge(clip: AudioClip, words: list[str]) -> list[tuple[float, float]]:
    """pocketsphinx's forced alignment of ``words`` to the clip: (start, end) per word."""
    from pocketsphinx import Decoder

    x = np.clip(resample(clip.samples, clip.sample_rate, 16000), -1, 1)
    dec = Decoder(samprate=16000, loglevel="FATAL")
    for word, phones in EXTRA_WORDS.items():
        dec.add_word(word, phones)
    dec.set_align_text(" ".join(words))
    dec.start_utt()
    dec.process_raw((x * 32767).astype("<i2").tobytes(), full_utt=True)
    dec.end_utt()
    segs = [s for s in dec.seg() or () if not s.word.startswith(("<", "["))]
    if len(segs) != len(words):
        raise RuntimeError(f"judge aligned {len(segs)} of {len(words)} words")
    return [(s.start_frame / 100, (s.end_frame + 1) / 100) for s in segs]


def structure_ok(words: list[TimedUnit], shown: list[str], duration: float) -> bool:
    return (
        [w.label for w in words] == shown
        and all(w.end > w.start for w in words)
        and all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(words))
        and words[-1].end <= duration + 1e-6
        and words[0].start >= 0
    )


def run_set(
    piper: PiperBackend, items: Any, emotion: str, accent: str, verbose: bool = False
) -> dict[str, float]:
    lost = extra = bad = judged = inside = 0
    audio = phonemise = 0.0
    errors: list[float] = []
    for text, spec in items:
        exp = expected(spec)
        shown = [s for s, _ in exp]
        res = piper.run(VoiceRequest(text=text, emotion=emotion, accent=accent, seed=1))
        words = list(res.alignment.words)
        clip = res.artifacts["audio"]
        assert isinstance(clip, AudioClip)
        audio += clip.duration
        t0 = time.perf_counter()
        for sentence in sentences_of(text):
            phonemize_sentence(sentence, ACCENTS[accent])
        phonemise += time.perf_counter() - t0
        ok = structure_ok(words, shown, clip.duration)
        bad += not ok
        if verbose and not ok:
            print(f"  structure: {[(w.label, round(w.start, 3), round(w.end, 3)) for w in words]}")
        got = [w.label for w in words]
        ops = difflib.SequenceMatcher(a=shown, b=got, autojunk=False).get_opcodes()
        lost += sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag in ("delete", "replace"))
        extra += sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag in ("insert", "replace"))
        matched = {
            i1 + k: j1 + k for tag, i1, i2, j1, _ in ops if tag == "equal" for k in range(i2 - i1)
        }
        spoken = [w for _, ws in exp for w in ws]
        if any(not ws for _, ws in exp):
            continue  # the judge cannot place English words among words it does not know
        try:
            spans = judge(clip, spoken)
        except RuntimeError as exc:
            print(f"  (judge failed on {text!r}: {exc})")
            continue
        k = 0
        for i, (_, ws) in enumerate(exp):
            js, je = spans[k][0], spans[k + len(ws) - 1][1]
            k += len(ws)
            if i not in matched:
                continue
            w = words[matched[i]]
            judged += 1
            errors += [abs(w.start - js), abs(w.end - je)]
            ok = js - SLACK <= (w.start + w.end) / 2 <= je + SLACK
            inside += ok
            if verbose and not ok:
                print(f"  {w.label!r}: ours {w.start:.2f}-{w.end:.2f}, judge {js:.2f}-{je:.2f}")
    n = sum(len(expected(s)) for _, s in items)
    return {
        "sentences": len(items),
        "words": n,
        "lost": lost,
        "extra": extra,
        "failing": bad,
        "judged": judged,
        "median_ms": 1000 * statistics.median(errors) if errors else float("nan"),
        "p90_ms": 1000 * float(np.percentile(errors, 90)) if errors else float("nan"),
        "inside": inside / max(judged, 1),
        "phonemise_rtf": phonemise / audio,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emotion", default="neutral")
    ap.add_argument("--accent", default="us")
    ap.add_argument("--sets", default="tuned,heldout")
    ap.add_argument("--verbose", action="store_true", help="print the words judged outside")
    args = ap.parse_args()
    piper = PiperBackend.load(LoadSettings())
    print(f"emotion {args.emotion}, accent {args.accent}")
    print(
        f"{'set':<8} {'sent':>4} {'words':>5} {'lost':>4} {'extra':>5} {'failing':>7} "
        f"{'judged':>6} {'median ms':>9} {'p90 ms':>6} {'mid inside':>10} {'phonemise':>9}"
    )
    for name in args.sets.split(","):
        r = run_set(piper, SETS[name], args.emotion, args.accent, args.verbose)
        print(
            f"{name:<8} {r['sentences']:>4} {r['words']:>5} {r['lost']:>4} {r['extra']:>5} "
            f"{r['failing']:>7} {r['judged']:>6} {r['median_ms']:>9.0f} {r['p90_ms']:>6.0f} "
            f"{r['inside']:>10.1%} {r['phonemise_rtf']:>9.4f}"
        )


if __name__ == "__main__":
    main()
