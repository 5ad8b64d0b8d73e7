"""Archive keys: exactly the layout in docs/architecture.md; nothing from outside can escape a prefix."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.archive_keys import (
    audio_event_key,
    audio_key,
    caller_segment,
    client_data_folder,
    decoded_segment,
    initiation_failure_key,
    is_post_call_event,
    profile_key,
    safe_caller,
    safe_id,
    transcription_key,
    unattributed_transcription_key,
)
from agentic_memory.errors import UnsafeIdentifier

MARGARET = "+15550100142"
AGENT = "agent_2401kn076can47sp0fftkzytzrjx"
CONVERSATION = "conv_6801khe5t8577ext65zsntr4mfdw"
CALL_SID = "CAc7d67bdede311ec942682b429630f51a"
RECEIVED_AT = datetime(2025, 11, 18, 15, 4, 12, 345678, tzinfo=UTC)

UNSAFE_IDS = [
    "",
    "../conv_1",
    "..",
    "conv/1",
    "/conv_1",
    "conv\\1",
    "conv\x001",
    "conv_ü",
    "ｃｏｎｖ",
    "conv 1",
    "-conv",
    "_conv",
    "x" * 129,
]
UNSAFE_CALLERS = [
    "",
    "../+15550100142",
    "..",
    "a..b",
    "+1555/0100142",
    "/etc/passwd",
    "+1555\\0100142",
    "+1555\x000100142",
    "+1555０100142",
    "ユーザー",
    "+1555 0100142",
    "u" * 129,
    "audio-only",
    "initiation-failure",
    "Other",
]


def test_client_data_keys_follow_the_design_layout() -> None:
    folder = client_data_folder(MARGARET, RECEIVED_AT, CALL_SID)

    assert folder + "received.json" == f"client-data/{MARGARET}/20251118T150412345Z_{CALL_SID}/received.json"
    assert folder + "response.json" == f"client-data/{MARGARET}/20251118T150412345Z_{CALL_SID}/response.json"


@pytest.mark.parametrize("call_sid", [None, ""])
def test_client_data_folder_without_a_call_sid_says_so(call_sid: str | None) -> None:
    assert (
        client_data_folder(MARGARET, RECEIVED_AT, call_sid)
        == f"client-data/{MARGARET}/20251118T150412345Z_no-call-sid/"
    )


def test_client_data_folders_sort_by_time() -> None:
    earlier = client_data_folder(MARGARET, RECEIVED_AT, CALL_SID)
    later = client_data_folder(MARGARET, RECEIVED_AT.replace(microsecond=346000), CALL_SID)

    assert earlier < later


def test_transcription_key_follows_the_design_layout() -> None:
    assert transcription_key(MARGARET, CONVERSATION) == f"post-call/{MARGARET}/{CONVERSATION}.json"


def test_the_caller_brief_key_follows_the_design_layout() -> None:
    assert profile_key(MARGARET) == f"profiles/{MARGARET}.json"
    with pytest.raises(UnsafeIdentifier):
        profile_key("../post-call/x")
    with pytest.raises(UnsafeIdentifier):
        profile_key("+1555\n")


def test_audio_key_follows_the_design_layout() -> None:
    assert audio_key(AGENT, CONVERSATION) == f"post-call/audio-only/{AGENT}/{CONVERSATION}.mp3"


def test_audio_event_and_initiation_failure_keys_sit_beside_it() -> None:
    assert audio_event_key(AGENT, CONVERSATION) == f"post-call/audio-only/{AGENT}/{CONVERSATION}.json"
    assert (
        initiation_failure_key(AGENT, CONVERSATION)
        == f"post-call/initiation-failure/{AGENT}/{CONVERSATION}.json"
    )


@pytest.mark.parametrize(
    ("key", "is_event"),
    [
        (f"post-call/{MARGARET}/{CONVERSATION}.json", True),
        (f"post-call/audio-only/{AGENT}/{CONVERSATION}.json", True),
        (f"post-call/audio-only/{AGENT}/{CONVERSATION}.mp3", False),
        (f"client-data/{MARGARET}/20251118T150412345Z_{CALL_SID}/received.json", False),
    ],
)
def test_only_raw_post_call_events_are_queued_for_processing(key: str, is_event: bool) -> None:
    assert is_post_call_event(key) is is_event


@pytest.mark.parametrize("unsafe", UNSAFE_IDS)
def test_unsafe_ids_are_rejected(unsafe: str) -> None:
    with pytest.raises(UnsafeIdentifier):
        safe_id(unsafe, "conversation_id")


@pytest.mark.parametrize("unsafe", UNSAFE_CALLERS)
def test_unsafe_callers_are_rejected(unsafe: str) -> None:
    with pytest.raises(UnsafeIdentifier):
        safe_caller(unsafe)


@pytest.mark.parametrize("unsafe", UNSAFE_IDS[1:])
def test_every_key_builder_rejects_an_unsafe_id(unsafe: str) -> None:
    builders = [
        lambda: transcription_key(MARGARET, unsafe),
        lambda: audio_key(unsafe, CONVERSATION),
        lambda: audio_key(AGENT, unsafe),
        lambda: audio_event_key(unsafe, CONVERSATION),
        lambda: initiation_failure_key(AGENT, unsafe),
    ]
    for build in builders:
        with pytest.raises(UnsafeIdentifier):
            build()


def test_a_sip_call_id_in_the_client_data_folder_is_encoded_not_refused() -> None:
    # Given a SIP call id, which carries "@" and dots
    folder = client_data_folder(MARGARET, RECEIVED_AT, "7f3a9c@192.0.2.17")

    # Then it is encoded into one safe, reversible segment
    assert folder == f"client-data/{MARGARET}/20251118T150412345Z_enc_7f3a9c_40192_2E0_2E2_2E17/"
    assert decoded_segment("enc_7f3a9c_40192_2E0_2E2_2E17") == "7f3a9c@192.0.2.17"


@pytest.mark.parametrize(
    ("caller_id", "key"),
    [
        ("google-oauth2|1234567890", "enc_google-oauth2_7C1234567890"),
        ("auth0|5f7c8ec7c33c", "enc_auth0_7C5f7c8ec7c33c"),
        ("Jiří Novák", "enc_Ji_C5_99_C3_AD_20Nov_C3_A1k"),
        ("../../etc/passwd", "enc__2E_2E_2F_2E_2E_2Fetc_2Fpasswd"),
        ("unattributed", "enc_unattributed"),
        ("enc_lookalike", "enc_enc_5Flookalike"),
        ("user_7f3c2a91d4", "user_7f3c2a91d4"),
        ("margaret@example.com", "margaret@example.com"),
    ],
)
def test_any_caller_id_maps_to_a_safe_stable_reversible_key(caller_id: str, key: str) -> None:
    assert caller_segment(caller_id) == key
    assert safe_caller(key) == key
    # Stable: a key given back (ElevenLabs echoes the pre-call's user_id) is its own key.
    assert caller_segment(key) == key
    if key.startswith("enc_"):
        assert decoded_segment(key) == caller_id


def test_an_id_too_long_to_encode_is_hashed_into_a_safe_key() -> None:
    key = caller_segment("subject|" + "x" * 200)

    assert key.startswith("sha_") and len(key) == 68
    assert safe_caller(key) == key and caller_segment(key) == key


def test_key_builders_reject_an_unsafe_caller() -> None:
    with pytest.raises(UnsafeIdentifier):
        transcription_key("../admin", CONVERSATION)
    with pytest.raises(UnsafeIdentifier):
        client_data_folder("audio-only", RECEIVED_AT, CALL_SID)
    with pytest.raises(UnsafeIdentifier):
        transcription_key("Unattributed", CONVERSATION)


def test_unattributed_transcriptions_have_a_folder_of_their_own() -> None:
    assert unattributed_transcription_key(CONVERSATION) == f"post-call/unattributed/{CONVERSATION}.json"
    with pytest.raises(UnsafeIdentifier):
        unattributed_transcription_key("../escape")


@pytest.mark.parametrize(
    "safe", [CONVERSATION, AGENT, CALL_SID, "d05d3eed-31b4-4463-ad0e-e284f6543db9", "x" * 128]
)
def test_real_ids_are_safe(safe: str) -> None:
    assert safe_id(safe, "id") == safe


@pytest.mark.parametrize("safe", [MARGARET, "user_7f3c2a91d4", "margaret@example.com", "+" + "1" * 64])
def test_real_callers_are_safe(safe: str) -> None:
    assert safe_caller(safe) == safe


@pytest.mark.parametrize("check", ["id", "caller"])
def test_a_trailing_newline_is_rejected(check: str) -> None:
    with pytest.raises(UnsafeIdentifier):
        if check == "id":
            safe_id(CONVERSATION + "\n", "conversation_id")
        else:
            safe_caller(MARGARET + "\n")


@given(st.text(max_size=140))
def test_any_accepted_id_has_no_separator_or_parent_reference(value: str) -> None:
    try:
        accepted = safe_id(value, "id")
    except UnsafeIdentifier:
        return
    assert "/" not in accepted and "\\" not in accepted and ".." not in accepted and "\x00" not in accepted


@given(st.text(max_size=80))
def test_any_accepted_caller_has_no_separator_or_parent_reference(value: str) -> None:
    try:
        accepted = safe_caller(value)
    except UnsafeIdentifier:
        return
    assert "/" not in accepted and "\\" not in accepted and ".." not in accepted and "\x00" not in accepted
    assert accepted.lower() not in {"audio-only", "initiation-failure", "oversized-audio", "unattributed"}
