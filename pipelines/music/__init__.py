"""Music: emotion → musical attributes → music (EmoGen-style), plus rendering and measurement.

``attributes`` measures any MIDI file; ``mapping`` turns an emotion into attribute targets;
``emogen`` takes targets from a labelled MIDI corpus; ``compose`` realises targets as MIDI;
``render`` makes audio and piano rolls; ``tokens`` writes REMI tokens; ``measure`` scores
attribute control. ``rules`` is the default backend; a learned attribute-conditioned model
(EmoGen stage 2) would be another backend reading the same targets and writing REMI tokens.
"""
