"""DICE-Talk on current diffusers: our own port (issue #16), run in an isolated environment.

The studio's main environment may import ``env`` (the environment's pins), ``layout`` (the
weights folder), ``plan`` (emotions → priors, the frame timeline), ``windows`` (the window
plan), ``backend`` (the ``dice`` Portrait backend) and ``client`` (its end of the worker's
pipe). ``unet`` (the UNet with DICE's audio/emotion IP-adapter streams and the pose-guider map),
``modules`` (pose guider, audio projection, emotion bank), ``weights`` (loading a user's
DICE-Talk folder), ``sampling`` (Euler steps, guidance, windows, chunked decode), ``features``
(Whisper, CLIP, VAE, face mask), ``generate`` (one clip, streamed) and ``worker`` (the
JSON-lines worker) import torch and diffusers and run only inside that environment. DICE-Talk's
code is CC BY-NC-SA 4.0: nothing here is copied from it; it was read to learn which function to
compute and which weight names to accept. Status and what is left: README.md here.
"""
