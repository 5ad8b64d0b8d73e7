"""A WhatsApp business-scoped user id linked to the person's number once one conversation names both
(issue 18, item 1): from then on the id is the number on every path — the post-call's archive key,
processing, the pre-call and the search tool — and ``forget`` of the number erases the link and what
the id kept. An id never seen with a number stays a caller of its own."""

from typing import Any

from helpers import response_json
from test_every_caller import deliver_and_process, search
from test_every_channel import BSUID, ROSA, whatsapp_conversation, whatsapp_precall

from agentic_memory.caller_links import link_key, linked_number
from local_runtime.operations import footprint, forget


def with_number(conversation_id: str, number: str) -> dict[str, Any]:
    """A WhatsApp conversation of a username user whose number is also known to it (``user_id``, as
    our pre-call or a CRM lookup sets it)."""
    event = whatsapp_conversation(conversation_id, BSUID)
    event["data"]["user_id"] = number
    return event


def test_a_conversation_naming_both_links_the_id_to_the_number(deps, keys):
    # Given Rosa, known by her number from an earlier WhatsApp conversation
    deliver_and_process(deps, keys, whatsapp_conversation("conv_rosa_number", "15550100188"))
    # When she writes from a username, in a conversation that also names her number
    deliver_and_process(deps, keys, with_number("conv_rosa_both", ROSA))
    # Then the conversation is filed under her number, and the id is linked to it
    assert sorted(deps.archive.keys("post-call/")) == [
        f"post-call/{ROSA}/conv_rosa_both.json",
        f"post-call/{ROSA}/conv_rosa_number.json",
    ]
    assert linked_number(deps.archive, BSUID) == ROSA
    assert deps.memory.list_all(BSUID) == []


def test_after_the_link_the_id_alone_is_the_number_everywhere(deps, keys):
    deliver_and_process(deps, keys, with_number("conv_rosa_both", ROSA))
    # When she writes again from her username only
    deliver_and_process(deps, keys, whatsapp_conversation("conv_rosa_id_only", BSUID))
    # Then it is hers: archived and remembered under her number, two conversations in her brief
    assert f"post-call/{ROSA}/conv_rosa_id_only.json" in deps.archive.keys("post-call/")
    assert not list(deps.archive.keys(f"post-call/{BSUID}/"))
    answer = whatsapp_precall(keys, BSUID)
    assert answer["user_id"] == ROSA
    assert (answer["dynamic_variables"]["returning_caller"], answer["dynamic_variables"]["memory_count"]) == (
        "yes",
        "2",
    )
    # And the search tool, given the id (system__caller_id on WhatsApp), searches her memory
    assert response_json(search(BSUID))["memories"] == response_json(search(ROSA))["memories"] != []


def test_forgetting_the_number_erases_the_link_and_what_the_id_kept(deps, keys):
    # Given the id's own conversation before the link, then the linking one
    deliver_and_process(deps, keys, whatsapp_conversation("conv_id_before", BSUID))
    deliver_and_process(deps, keys, with_number("conv_rosa_both", ROSA))
    assert deps.memory.list_all(BSUID) and deps.memory.list_all(ROSA)
    # When Rosa is forgotten
    found = footprint(ROSA, deps.archive, deps.memory)
    assert link_key(BSUID) in found.object_keys
    forget(found, deps.archive, deps.memory)
    # Then nothing of either key is left: no link, no events, no briefs, no memories
    assert deps.memory.list_all(BSUID) == deps.memory.list_all(ROSA) == []
    assert [key for key in deps.archive.keys("") if BSUID in key or ROSA in key] == []


def test_an_id_never_seen_with_a_number_stays_its_own_caller(deps, keys):
    deliver_and_process(deps, keys, whatsapp_conversation("conv_id_alone", BSUID))
    assert linked_number(deps.archive, BSUID) is None
    assert whatsapp_precall(keys, BSUID)["user_id"] == BSUID
    assert list(deps.archive.keys("links/")) == []
