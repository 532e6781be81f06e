"""Talking portraits: one photo + speech + an emotion → an MP4 (see ``landmark_warp``)."""
