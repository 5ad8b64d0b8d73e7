"""A post-call transcription as the recall index keeps it (``IndexedCall``), sensitive numbers redacted.

Sources: the turns are ``data.transcript`` (``role`` ``agent`` → ``Agent``, ``user`` → ``Caller``;
tool-only turns carry no text and are left out), the start time ``metadata.start_time_unix_secs``,
the caller's zone ``metadata.timezone`` or ``system__timezone`` (``call_time``), the summary
ElevenLabs' ``analysis.transcript_summary``.
"""

from collections.abc import Iterable

from ..call_time import call_started, zone_name, zone_of_call
from ..caller_profile import names_given
from ..elevenlabs.post_call import TranscriptionData
from ..memory_building import clip_words, max_passages, printable, turns_of
from ..redaction import ALL_KINDS, SensitiveKind, redact
from .index import IndexedCall
from .passages import segments_of

SUMMARY_MAX_CHARS = 1_000


def indexed_call(
    data: TranscriptionData, redact_kinds: Iterable[SensitiveKind] = ALL_KINDS, with_names: bool = False
) -> IndexedCall:
    """What the index keeps of the call; ``with_names``: also the names it gives the caller (read from
    the whole transcript, ~20 ms for an hour: only when an operator's name correction needs them)."""
    kinds = frozenset(redact_kinds)
    summary = data.analysis.transcript_summary if data.analysis is not None else None
    duration = data.metadata.call_duration_secs
    return IndexedCall(
        conversation_id=data.conversation_id,
        started_at=call_started(data),
        zone=zone_name(zone_of_call(data)),
        agent_id=data.agent_id,
        segments=tuple(segments_of(turns_of(data, kinds))),
        summary=redact(clip_words(printable(summary), SUMMARY_MAX_CHARS), kinds) if summary else "",
        duration_seconds=int(duration) if duration is not None else 0,
        unit_bound=max_passages(duration),
        names_given=names_given(data) if with_names else (),
    )
