"""Voice: emotional, accented speech from text and from a voice description.

``request`` (VoiceRequest, plan), ``piper`` (the default backend), ``tiny`` (for tests),
``prosody`` (emotion → F0/rate/energy/pauses via WORLD), ``accents``, ``codeswitch``,
``describe`` (Parler-style descriptions), ``text``, ``timings`` (SRT/VTT), ``synth`` (joining and
results) and ``measure`` (the emotion check). Nothing heavy is imported here.
"""
