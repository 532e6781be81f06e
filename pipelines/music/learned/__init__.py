"""The learned music generator (EmoGen stage 2): vocabulary, controls, checkpoint, training."""
