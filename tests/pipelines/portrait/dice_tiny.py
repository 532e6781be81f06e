"""The tiny UNet config of DICE-Talk's parity fixture (its README), importable inside the
isolated dice env (no test dependencies here)."""

CONFIG = dict(
    sample_size=8, in_channels=8, out_channels=4,
    down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
    up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
    block_out_channels=(32, 64), addition_time_embed_dim=8,
    projection_class_embeddings_input_dim=24, layers_per_block=1, cross_attention_dim=32,
    transformer_layers_per_block=1, num_attention_heads=(2, 4), num_frames=5,
)  # fmt: skip
