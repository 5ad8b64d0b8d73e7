"""Small helpers the Platform client tests share (fixtures are in this folder's conftest)."""

from agentic_memory.ports import ChatMessage
from devtools.mem0_emulator import Mem0Emulator, RecordedRequest

CALLER = "+15550142001"


def user_says(*texts: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text) for text in texts]


def calls_to(emulator: Mem0Emulator, operation: str) -> list[RecordedRequest]:
    """What the emulator received for one operation (``add``, ``search``, ``list``, ...), in order."""
    return [request for request in emulator.requests() if request.operation == operation]
