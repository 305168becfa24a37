"""What the routes, GraphQL, the CLI and other plugins use. Raises core's domain errors, never
HTTP errors: core turns them into the documented error body (and into GraphQL errors)."""
from __future__ import annotations

from bson import ObjectId

from core import NotFound, find_service
from im_sample_plugin.models import SampleNote


class NotesService:
    """The service ``sample.notes``: each user's own notes."""

    def list(self, owner: str) -> list[dict]:
        docs = SampleNote.objects(owner=owner).order_by("-created_at")
        return [self._view(doc) for doc in docs]

    def create(self, owner: str, text: str) -> dict:
        return self._view(SampleNote(owner=owner, text=text).save())

    def delete(self, owner: str, note_id: str) -> None:
        # Another user's note is "not found" too: its existence is not the caller's business.
        if not (len(note_id) == 24 and ObjectId.is_valid(note_id)):
            raise NotFound("note not found")
        if not SampleNote.objects(id=ObjectId(note_id), owner=owner).delete():
            raise NotFound("note not found")

    def count(self, owner: str) -> int:
        return SampleNote.objects(owner=owner).count()

    @staticmethod
    def _view(doc: SampleNote) -> dict:
        return {"id": str(doc.id), "text": doc.text}


def greeting(target) -> str:
    """The configured greeting, passed through every ``sample_decorate_greeting`` in load order.

    ``target`` is a request or a registry.
    """
    registry = getattr(target, "registry", target)
    text = registry.settings["interviewminds.sample.greeting"]
    pm = find_service(registry, "core.plugins").pm
    for impl in pm.hook.sample_decorate_greeting.get_hookimpls():  # registration = load order
        text = impl.function(greeting=text) or text
    return text


def count_event(registry, name: str) -> None:
    """Subscriber: count every domain event (any plugin's) by name in the Redis hash ``sample:events``."""
    find_service(registry, "core.redis").hincrby("sample:events", name, 1)
