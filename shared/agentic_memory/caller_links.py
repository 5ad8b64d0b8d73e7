"""A WhatsApp business-scoped user id linked to the person's phone number, once both are seen.

A person who takes a WhatsApp username and hides their number reaches the agent as a business-scoped
user id (BSUID, ``US.1349…``: ``whatsapp_numbers``), a caller of its own. When one conversation names
both that id (``metadata.whatsapp.whatsapp_user_id``) and a phone number for the person (``user_id``,
``system__caller_id`` or a ``CALLER_ID_VARIABLES`` variable, as a CRM lookup tool sets it), the
processor records the link at ``links/{bsuid}.json`` = ``{"caller_id": "+E.164", "linked_at"}`` and
files that conversation under the number. From then on the pre-call, the search tool and processing
read the id as the number: one person, one memory on every channel.

What the id said before the link stays under the id (its brief, memories and index are not merged);
``forget`` of the number erases its links and what is kept under each linked id.
"""

import json
from datetime import UTC, datetime

from . import archive_keys
from .errors import ArchiveKeyMissing, UnsafeIdentifier
from .ports import Archive
from .whatsapp_numbers import is_business_scoped_id

LINKS_PREFIX = "links/"
CONTENT_TYPE = "application/json"


def link_key(business_scoped_id: str) -> str:
    return f"{LINKS_PREFIX}{archive_keys.safe_caller(business_scoped_id)}.json"


def is_linkable(caller_key: str) -> bool:
    """True for a caller key that is a business-scoped id (the only kind that is ever linked)."""
    return is_business_scoped_id(caller_key)


def linked_number(archive: Archive, caller_key: str) -> str | None:
    """The number a business-scoped id is linked to, or None (not linked, or not such an id)."""
    if not is_linkable(caller_key):
        return None
    try:
        body = json.loads(archive.get(link_key(caller_key)))
    except (ArchiveKeyMissing, UnsafeIdentifier, ValueError):
        return None
    number = body.get("caller_id") if isinstance(body, dict) else None
    return number if isinstance(number, str) and number.startswith("+") else None


def resolve(archive: Archive, caller_key: str) -> str:
    """The key the caller's memory is under: the linked number for a linked id, else the key itself."""
    return linked_number(archive, caller_key) or caller_key


def link(archive: Archive, business_scoped_id: str, number: str, now: datetime | None = None) -> bool:
    """Record that ``business_scoped_id`` is the person with ``number``; False when it already was."""
    if linked_number(archive, business_scoped_id) == number:
        return False
    record = {"caller_id": number, "linked_at": (now or datetime.now(UTC)).isoformat()}
    archive.put(link_key(business_scoped_id), json.dumps(record).encode("utf-8"), CONTENT_TYPE)
    return True


def ids_linked_to(archive: Archive, number: str) -> list[str]:
    """Every business-scoped id linked to ``number`` (for ``forget``)."""
    linked = []
    for key in archive.keys(LINKS_PREFIX):
        business_scoped_id = key[len(LINKS_PREFIX) :].removesuffix(".json")
        if linked_number(archive, business_scoped_id) == number:
            linked.append(business_scoped_id)
    return linked
