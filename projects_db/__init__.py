"""Persistence for Affect Studio: projects, input assets, generations and their files.

Stores requests as plain JSON; imports nothing from ``studio``, ``pipelines`` or ``gradio``.

    with Store.open("studio_data") as store:
        project = store.create_project("Demo")
        gen = store.create_generation(project.id, task="voice", backend="tiny",
                                      backend_version="1", request={...}, seed=1, emotion="happy")
"""

from projects_db.artifacts import ArtifactStore
from projects_db.errors import NotFound, ProjectNameError, ProjectNotEmpty, StoreError
from projects_db.info import GENERATION_STATUSES, AssetInfo, GenerationInfo, ProjectInfo
from projects_db.library import GenerationFilter, NewGeneration, Page
from projects_db.names import normalise_project_name
from projects_db.runners import INTERRUPTED_MESSAGE
from projects_db.store import Store

__all__ = [
    "GENERATION_STATUSES",
    "INTERRUPTED_MESSAGE",
    "ArtifactStore",
    "AssetInfo",
    "GenerationFilter",
    "GenerationInfo",
    "NewGeneration",
    "NotFound",
    "Page",
    "ProjectInfo",
    "ProjectNameError",
    "ProjectNotEmpty",
    "Store",
    "StoreError",
    "normalise_project_name",
]
