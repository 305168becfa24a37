"""Connections to MongoDB (mongoengine) and Redis, and index creation (`migrate`)."""
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
