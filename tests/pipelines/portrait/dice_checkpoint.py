"""Build a tiny DICE-Talk weights folder in DICE-Talk's own layout, with random weights: the
tiny UNet of the parity fixture's config, a VAE that downsamples 8×, a one-layer CLIP vision
encoder, a 4-layer Whisper of width 8 (so 5 hidden states, as Whisper-tiny has), and
``dice-talk/*.pth`` + 8 priors sized to fit them. Runs inside the ``dice`` env (torch):
``python -m tests.pipelines.portrait.dice_checkpoint ROOT``. Every part is saved the way the
real download ships it (``save_pretrained`` folders, ``torch.save`` state dicts, pickled
``{'mu': array}`` priors)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "interpolation_type": "linear", "num_train_timesteps": 1000,
    "prediction_type": "v_prediction", "set_alpha_to_one": False, "sigma_max": 700.0,
    "sigma_min": 0.002, "skip_prk_steps": True, "steps_offset": 1,
    "timestep_spacing": "leading", "timestep_type": "continuous", "trained_betas": None,
    "use_karras_sigmas": True,
}  # fmt: skip
"""SVD-XT's scheduler configuration."""
CLIP_PREPROCESSOR = {
    "crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_normalize": True,
    "do_rescale": True, "do_resize": True, "image_processor_type": "CLIPImageProcessor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "resample": 3,
    "image_std": [0.26862954, 0.26130258, 0.27577711], "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 224},
}  # fmt: skip
WHISPER_WIDTH, WHISPER_LAYERS = 8, 4
TOKENS, PRIOR_DIM = 4, 16


def build(root: Path, seed: int = 0) -> Path:
    import numpy as np
    import torch
    from diffusers import AutoencoderKLTemporalDecoder
    from safetensors.torch import save_file
    from transformers import (
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperModel,
    )

    from pipelines.portrait.dice.modules import AudioProjection, EmotionModule, PoseGuider
    from pipelines.portrait.dice.unet import build_unet
    from pipelines.portrait.dice.weights import PRIORS, SVD
    from tests.pipelines.portrait.dice_tiny import CONFIG

    torch.manual_seed(seed)
    root = Path(root)
    dice, svd = root / "DICE-Talk", root / SVD
    for folder in (dice / "emo", svd / "unet", svd / "feature_extractor", svd / "scheduler"):
        folder.mkdir(parents=True, exist_ok=True)
    width = int(CONFIG["cross_attention_dim"])  # type: ignore[call-overload]
    unet = build_unet(CONFIG)
    with torch.no_grad():  # the IP projections start as copies of attn2's: make them their own
        for name, p in unet.named_parameters():
            if "_ip." in name:
                p.add_(0.5 * torch.randn_like(p))
    state = unet.state_dict()
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in CONFIG.items()}
    config["_class_name"] = "UNetSpatioTemporalConditionModel"
    (svd / "unet" / "config.json").write_text(json.dumps(config))
    save_file(
        {k: v.contiguous() for k, v in state.items() if ".processor." not in k},
        str(svd / "unet" / "diffusion_pytorch_model.safetensors"),
    )
    torch.save({k: v for k, v in state.items() if ".processor." in k}, dice / "unet.pth")
    channels = int(CONFIG["block_out_channels"][0])  # type: ignore[index]
    torch.save(PoseGuider(channels, (4, 8, 8, 16)).state_dict(), dice / "pose_guider.pth")
    audio_in = 10 * (WHISPER_LAYERS + 1) * WHISPER_WIDTH
    torch.save(AudioProjection(audio_in, 16, TOKENS, width).state_dict(), dice / "audio_linear.pth")
    torch.save(
        EmotionModule(PRIOR_DIM, 16, TOKENS, width, bank=8).state_dict(), dice / "emo_model.pth"
    )
    rng = np.random.default_rng(seed)
    for name in PRIORS:
        mu = rng.standard_normal((1, PRIOR_DIM)).astype(np.float32)
        np.save(dice / "emo" / f"{name}.npy", np.array({"mu": mu}, dtype=object), allow_pickle=True)
    AutoencoderKLTemporalDecoder(
        down_block_types=("DownEncoderBlock2D",) * 4, block_out_channels=(32,) * 4
    ).save_pretrained(str(svd / "vae"))
    CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=37,
            projection_dim=width,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=224,
            patch_size=32,
        )
    ).save_pretrained(str(svd / "image_encoder"))
    (svd / "feature_extractor" / "preprocessor_config.json").write_text(
        json.dumps(CLIP_PREPROCESSOR)
    )
    (svd / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER))
    whisper = WhisperConfig(
        vocab_size=64, num_mel_bins=80, d_model=WHISPER_WIDTH, encoder_layers=WHISPER_LAYERS,
        encoder_attention_heads=2, decoder_layers=1, decoder_attention_heads=2,
        encoder_ffn_dim=16, decoder_ffn_dim=16, max_source_positions=1500,
        max_target_positions=32, pad_token_id=0, bos_token_id=1, eos_token_id=2,
        decoder_start_token_id=1,
    )  # fmt: skip
    WhisperModel(whisper).save_pretrained(str(root / "whisper-tiny"))
    WhisperFeatureExtractor(feature_size=80).save_pretrained(str(root / "whisper-tiny"))
    return root


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
