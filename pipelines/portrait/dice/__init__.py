"""DICE-Talk on current diffusers: our own port (issue #16), run in an isolated environment.

``env`` (the environment's pins) and ``windows`` (the window plan, pure Python) are the only
modules the studio's main environment may import. ``unet`` (the UNet with DICE's audio/emotion
IP-adapter streams and the pose-guider map), ``modules`` (pose guider, audio projection, emotion
bank), ``weights`` (loading a user's DICE-Talk folder) and ``sampling`` (Euler steps, guidance)
import torch and diffusers and run only inside that environment. DICE-Talk's code is
CC BY-NC-SA 4.0: nothing here is copied from it; it was read to learn which function to compute
and which weight names to accept. Status and what is left: README.md here.
"""
