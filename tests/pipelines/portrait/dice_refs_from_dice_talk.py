"""How ``dice_modules_ref.pt`` and ``dice_sampler_ref.pt`` were made: DICE-Talk's own classes
(``AudioProjModel``, ``PoseGuider``, ``EmotionModel``, its UNet + ``add_ip_adapters`` and
``DicePipeline``) run on tiny inputs. Not a test and not run by the tests: it needs a local copy
of DICE-Talk's repository (CC BY-NC-SA 4.0, not part of ours), ``einops`` and diffusers 0.29.2
(its pipeline's version) placed before the env's own diffusers::

    <dice env python> -m tests.pipelines.portrait.dice_refs_from_dice_talk \\
        DICE_TALK_REPO OLD_SITE OUT_DIR [UNET_FIXTURE]

``OLD_SITE`` holds diffusers 0.29.2 and einops unpacked from their wheels; ``UNET_FIXTURE`` is
the shared parity fixture (``../shared/fixtures/dice_tiny/ref.pt``), whose UNet weights the
sampler reference uses.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any


def _their_code(repo: Path, old_site: Path) -> None:
    sys.path[:0] = [str(old_site), str(repo)]
    import transformers.utils as tu  # diffusers 0.29 imports names transformers 5 dropped

    for name, value in {
        "FLAX_WEIGHTS_NAME": "flax_model.msgpack",
        "SAFE_WEIGHTS_NAME": "model.safetensors",
        "WEIGHTS_NAME": "pytorch_model.bin",
    }.items():
        if not hasattr(tu, name):
            setattr(tu, name, value)


def modules_ref(out: Path) -> None:
    import torch
    from src.models.audio_adapter.audio_proj import AudioProjModel  # type: ignore[import-not-found]
    from src.models.audio_adapter.pose_guider import PoseGuider  # type: ignore[import-not-found]
    from src.models.emotion_adapter.emo import EmotionModel  # type: ignore[import-not-found]

    from tests.pipelines.portrait.dice_modules_recipe import fill, inputs

    audio = AudioProjModel(
        seq_len=10, blocks=5, channels=8, intermediate_dim=16, output_dim=32, context_tokens=4
    )
    pose = PoseGuider(conditioning_embedding_channels=32, block_out_channels=(4, 8, 8, 16))
    emo = EmotionModel()
    for m in (audio, pose, emo):
        fill(m.eval())
    x = inputs()
    with torch.no_grad():
        ref: dict[str, Any] = {
            "audio": audio(x["audio"]),
            "pose": pose(x["pose"]),  # (b, c, f, h, w)
            "emotion": emo(x["prior"].reshape(1, 1, 1, 1, -1), retrieval=False)[0],
        }
    ref = {k: v.contiguous() for k, v in ref.items()}
    ref["keys"] = {
        "audio": sorted(audio.state_dict()),
        "pose": sorted(pose.state_dict()),
        "emotion": sorted(emo.state_dict()),
    }
    torch.save(ref, out / "dice_modules_ref.pt")


def sampler_ref(out: Path, unet_fixture: Path) -> None:
    import torch
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
    from src.models.audio_adapter.pose_guider import PoseGuider
    from src.models.base.unet_spatio_temporal_condition import (  # type: ignore[import-not-found]
        UNetSpatioTemporalConditionModel,
        add_ip_adapters,
    )
    from src.pipelines.pipeline_dicetalk import DicePipeline  # type: ignore[import-not-found]

    from tests.pipelines.portrait.dice_checkpoint import SCHEDULER
    from tests.pipelines.portrait.dice_modules_recipe import fill
    from tests.pipelines.portrait.dice_tiny import CONFIG

    fixture = torch.load(unet_fixture, weights_only=True)
    unet = UNetSpatioTemporalConditionModel(**CONFIG)
    add_ip_adapters(unet, [4, 4], [1.0, 1.0])
    missing, unexpected = unet.load_state_dict(fixture["sd"], strict=False)
    assert not missing and not unexpected
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        down_block_types=("DownEncoderBlock2D",) * 4, block_out_channels=(32,) * 4
    )
    pose = PoseGuider(conditioning_embedding_channels=32, block_out_channels=(4, 8, 8, 16))
    fill(pose)
    seen: dict[str, Any] = {}
    pose.register_forward_hook(lambda m, i, o: seen.__setitem__("pose", o.detach().clone()))

    class Clip(torch.nn.Module):  # stands in for CLIP: the pipeline only reads image_embeds
        def __init__(self, embeds: torch.Tensor) -> None:
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))
            self.embeds = embeds

        def forward(self, image: torch.Tensor) -> Any:
            return types.SimpleNamespace(image_embeds=self.embeds.clone())

    g = torch.Generator().manual_seed(5)
    frames, window, side = 7, 5, 64
    embeds = torch.randn(1, 32, generator=g)
    pipe = DicePipeline(
        unet=unet.eval(),
        image_encoder=Clip(embeds),
        vae=vae.eval(),
        pose_guider=pose.eval(),
        scheduler=EulerDiscreteScheduler.from_config(SCHEDULER),
    )
    photo = torch.rand(1, 3, side, side, generator=g) * 2 - 1
    mask = torch.zeros(3, side, side)
    mask[:, 12:52, 16:48] = 1.0
    audio = [torch.randn(4, 32, generator=g) for _ in range(frames)]
    uaudio = [torch.randn(4, 32, generator=g)] * frames
    emo = [torch.randn(4, 32, generator=g)] * frames
    uemo = [torch.randn(4, 32, generator=g)] * frames
    noise = torch.randn(1, frames + window, 4, side // 8, side // 8, generator=g)
    with torch.no_grad():
        latents = vae.encode(photo).latent_dist.mode()[0]
        result = pipe(
            photo, torch.zeros(1, 3, 224, 224), [mask] * frames, audio, uaudio, emo, uemo,
            height=side, width=side, num_frames=frames, num_inference_steps=3,
            min_guidance_scale1=3.0, max_guidance_scale1=3.0, min_guidance_scale2=6.0,
            max_guidance_scale2=6.0, fps=12.5, motion_bucket_id=8, motion_bucket_id_exp=16,
            noise_aug_strength=0.0, latents=noise.clone(), output_type="latent", overlap=0,
            shift_offset=3, frames_per_batch=window, i2i_noise_strength=1.0,
        ).frames  # fmt: skip
    torch.save(
        {
            "image_latents": latents,
            "init_latents": latents * 0.18215,
            "image_embeds": embeds,
            "audio": torch.stack(audio),
            "uncond_audio": torch.stack(uaudio),
            "emotion": torch.stack(emo),
            "uncond_emotion": torch.stack(uemo),
            "spatial": seen["pose"][0, :, :1].transpose(0, 1).contiguous(),  # every frame alike
            "mask": mask[None, :1].contiguous(),
            "noise": noise[0],
            "out": result[0, :frames].contiguous(),
        },
        out / "dice_sampler_ref.pt",
    )


if __name__ == "__main__":
    repo, old_site, out = (Path(a) for a in sys.argv[1:4])
    _their_code(repo, old_site)
    import torch

    torch.set_num_threads(1)
    modules_ref(out)
    if len(sys.argv) > 4:
        sampler_ref(out, Path(sys.argv[4]))
