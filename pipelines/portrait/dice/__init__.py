"""DICE-Talk on current diffusers: our own port (issue #16), run in an isolated environment.

``env`` (the environment's pins; safe to import anywhere) is the only module the studio's main
environment may import. ``unet`` (the UNet with DICE's audio/emotion IP-adapter streams and the
pose-guider map) and ``weights`` (loading a user's DICE-Talk folder) import torch and diffusers
and run only inside that environment. DICE-Talk's code is CC BY-NC-SA 4.0: nothing here is
copied from it; it was read to learn which function to compute and which weight names to accept.
"""
