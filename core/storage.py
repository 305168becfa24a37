"""Connections to MongoDB (mongoengine) and Redis, index creation and data migrations (`migrate`)."""
from __future__ import annotations

import logging

import mongoengine
import redis
from mongoengine import Document

log = logging.getLogger(__name__)


def connect_mongo(uri: str, timeout_ms: int) -> None:
    """(Re)connect mongoengine's default alias. pymongo reconnects by itself after an outage."""
    mongoengine.disconnect_all()
    # disconnect_all() forgets the collections cached on Document classes through mongoengine's
    # registry of classes BY NAME; two plugins' classes of one name (webhooks' and interviews'
    # `Message`) hide each other there, and the hidden one would keep a closed client.
    for cls in _document_classes(("",)):
        cls._collection = None
    mongoengine.connect(
        host=uri,
        alias="default",
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=max(timeout_ms * 5, 5000),
        uuidRepresentation="standard",
        tz_aware=True,
        connect=False,
    )


def mongo_db():
    return mongoengine.get_db()


def redis_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                health_check_interval=30)


def _document_classes(module_prefixes: tuple[str, ...]) -> list[type[Document]]:
    found, stack = [], list(Document.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        meta = getattr(cls, "_meta", {})
        if meta.get("abstract") or not cls.__module__.startswith(module_prefixes):
            continue
        found.append(cls)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def migrate(module_prefixes: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Create the indexes of every Document defined under ``module_prefixes``. Idempotent."""
    done = []
    for cls in _document_classes(module_prefixes):
        cls.ensure_indexes()
        collection = cls._get_collection()
        names = sorted(collection.index_information())
        done.append((f"{cls.__module__}.{cls.__name__} -> {collection.name}", names))
        log.info("indexes of %s: %s", collection.name, names)
    return done


def migrate_documents(module_prefixes: tuple[str, ...]) -> list[str]:
    """Run the data migrations of every Document defined under ``module_prefixes``.

    A Document class takes part by defining a classmethod ``migrate_documents()`` that brings
    stored documents to the current shape and returns a one-line summary of what it changed,
    or None when nothing needed changing. Each must be idempotent (``interviewminds migrate``
    runs on every deploy) and safe while the app serves (one atomic update per document).
    """
    notes = []
    for cls in _document_classes(module_prefixes):
        step = cls.__dict__.get("migrate_documents")
        if step is None:
            continue
        note = getattr(cls, "migrate_documents")()
        log.info("data migration of %s.%s: %s", cls.__module__, cls.__name__, note or "nothing to do")
        if note:
            notes.append(note)
    return notes
