"""Project operations of :class:`projects_db.Store`."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from projects_db.assets import AssetRefsMixin
from projects_db.errors import NotFound, ProjectNameError, ProjectNotEmpty
from projects_db.info import ProjectInfo
from projects_db.models import Generation, GenerationAsset, Project, utcnow
from projects_db.names import normalise_project_name, project_name_key


def _duplicate(name: str) -> ProjectNameError:
    return ProjectNameError(f"A project named '{name}' already exists — choose another name")


def _count(session: Session, project_id: int) -> int:
    query = select(func.count()).select_from(Generation).where(Generation.project_id == project_id)
    return session.scalar(query) or 0


def _info(session: Session, project: Project) -> ProjectInfo:
    return ProjectInfo(
        id=project.id,
        name=project.name,
        created_at=project.created_at,
        updated_at=project.updated_at,
        generation_count=_count(session, project.id),
    )


def _get(session: Session, project_id: int, *, for_update: bool = False) -> Project:
    query = select(Project).where(Project.id == project_id)
    project = session.scalar(query.with_for_update() if for_update else query)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist (it may have been deleted)")
    return project


class ProjectsMixin(AssetRefsMixin):
    def create_project(self, name: str) -> ProjectInfo:
        """Create a project; :class:`ProjectNameError` when the name is bad or taken."""
        name = normalise_project_name(name)
        key = project_name_key(name)
        try:
            with self._writing() as session:
                existing = session.scalar(select(Project).where(Project.name_key == key))
                if existing is not None:
                    raise _duplicate(existing.name)
                now = utcnow()
                project = Project(name=name, name_key=key, created_at=now, updated_at=now)
                session.add(project)
                session.flush()
                return ProjectInfo(project.id, project.name, now, now, 0)
        except IntegrityError as exc:  # lost a race against another writer
            raise _duplicate(name) from exc

    def rename_project(self, project_id: int, new_name: str) -> ProjectInfo:
        """Rename a project (changing only the case of its name is fine)."""
        name = normalise_project_name(new_name)
        key = project_name_key(name)
        try:
            with self._writing() as session:
                project = _get(session, project_id, for_update=True)
                clash = session.scalar(
                    select(Project).where(Project.name_key == key, Project.id != project_id)
                )
                if clash is not None:
                    raise _duplicate(clash.name)
                if project.name != name:
                    project.name, project.name_key = name, key
                    project.updated_at = utcnow()
                    session.flush()
                return _info(session, project)
        except IntegrityError as exc:
            raise _duplicate(name) from exc

    def delete_project(self, project_id: int, *, with_generations: bool = False) -> None:
        """Delete a project; with generations only when ``with_generations`` is true.

        Deleting also removes the generations' rows and their files.
        """
        with self._writing() as session:
            project = _get(session, project_id, for_update=True)
            count = _count(session, project_id)
            if count and not with_generations:
                noun = "generation" if count == 1 else "generations"
                raise ProjectNotEmpty(
                    f"Project '{project.name}' has {count} {noun} — confirm to delete them and "
                    "their files too",
                    count,
                )
            used = select(GenerationAsset.asset_id).join(
                Generation, Generation.id == GenerationAsset.generation_id
            )
            assets = set(session.scalars(used.where(Generation.project_id == project_id)).all())
            session.execute(delete(Project).where(Project.id == project_id))
        self.artifacts.remove_project(project_id)
        self.release_assets(assets)

    def list_projects(self) -> list[ProjectInfo]:
        """All projects, sorted by name (case-insensitive)."""
        counts = (
            select(Generation.project_id, func.count().label("n"))
            .group_by(Generation.project_id)
            .subquery()
        )
        query = select(Project, func.coalesce(counts.c.n, 0)).outerjoin(
            counts, counts.c.project_id == Project.id
        )
        with self._reading() as session:
            rows = session.execute(query).all()
        infos = [
            (p.name_key, p.id, ProjectInfo(p.id, p.name, p.created_at, p.updated_at, int(n)))
            for p, n in rows
        ]
        return [info for _key, _id, info in sorted(infos, key=lambda item: item[:2])]

    def get_project(self, project_id: int) -> ProjectInfo:
        """One project; :class:`NotFound` when it does not exist."""
        with self._reading() as session:
            return _info(session, _get(session, project_id))

    def find_project(self, name: str) -> ProjectInfo | None:
        """The project with this name (case-insensitive), or ``None``."""
        key = project_name_key(name.strip())
        with self._reading() as session:
            project = session.scalar(select(Project).where(Project.name_key == key))
            return None if project is None else _info(session, project)
