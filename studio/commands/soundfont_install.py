"""``launch.py backends install soundfont``: a fuller General MIDI soundfont for music audio.

The studio renders MIDI with the first soundfont it finds (:func:`pipelines.music.render.
find_soundfont`): ``$AFFECT_STUDIO_SOUNDFONT``, FluidR3_GM in the usual places, then pretty_midi's
bundled TimGM6mb (6 MB, the fallback). FluidR3_GM (141 MB, MIT licence) is Debian's
``fluid-soundfont-gm``: this installs it with apt where it can (root), or says how.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from pipelines.music.render import SYSTEM_SOUNDFONTS, bundled_soundfont, find_soundfont

PACKAGE = "fluid-soundfont-gm"
HOW = (
    f"Install it with your package manager (Debian/Ubuntu: sudo apt-get install {PACKAGE}), or "
    "point AFFECT_STUDIO_SOUNDFONT at any General MIDI .sf2 file (e.g. FluidR3_GM.sf2)."
)


def system_soundfont() -> Path | None:
    """The fuller soundfont, when one of the usual places has it."""
    return next((Path(p) for p in SYSTEM_SOUNDFONTS if Path(p).is_file()), None)


def install_soundfont(
    print_fn: Callable[[str], None] = print,
    run: Callable[[list[str]], int] | None = None,
) -> int:
    """Install (or confirm) FluidR3_GM; 0 when the studio now renders with a fuller soundfont."""
    found = system_soundfont()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print_fn(f"Installing Debian's {PACKAGE} (about 140 MB) …")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

        def apt(cmd: list[str]) -> int:
            return subprocess.run(cmd, env=env, check=False).returncode

        call = run or apt
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE]
        if call(install) != 0:  # a stale package list: refresh it once
            call(["apt-get", "update", "-qq"])
            call(install)
        found = system_soundfont()
    if found is None:
        print_fn(f"No fuller soundfont installed; music renders with {bundled_soundfont().name}.")
        print_fn(HOW)
        return 1
    used = find_soundfont()
    print_fn(f"Soundfont {found} is installed; music renders with {used}.")
    if used != found:
        print_fn(f"(AFFECT_STUDIO_SOUNDFONT chooses {used}; unset it to use {found.name}.)")
    return 0
