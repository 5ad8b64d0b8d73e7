"""ElevenLabs' conversation audio endpoint: the audio of a call whose webhook was too large to accept."""

import http.client
import ssl
from urllib.parse import quote, urlsplit

from ..ports import NoAudio

AUDIO_PATH = "/v1/convai/conversations/{conversation_id}/audio"
# Audio of a long call is tens of MB: this runs in the asynchronous processing path only.
TIMEOUT_SECONDS = 60
MAX_AUDIO_BYTES = 200 * 1024 * 1024


class AudioFetchFailed(Exception):
    """ElevenLabs did not hand over the audio (the processing queue retries)."""


class ElevenLabsAudioClient:
    def __init__(self, api_key: str, base_url: str = "https://api.elevenlabs.io") -> None:
        self._api_key = api_key
        url = urlsplit(base_url)
        self._https = url.scheme == "https"
        self._netloc = url.netloc
        self._base_path = url.path.rstrip("/")

    def fetch_audio(self, conversation_id: str) -> bytes:
        path = self._base_path + AUDIO_PATH.format(conversation_id=quote(conversation_id, safe=""))
        connection = (
            http.client.HTTPSConnection(
                self._netloc, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
            if self._https
            else http.client.HTTPConnection(self._netloc, timeout=TIMEOUT_SECONDS)
        )
        try:
            connection.request("GET", path, headers={"xi-api-key": self._api_key, "Accept": "audio/mpeg"})
            response = connection.getresponse()
            body = response.read(MAX_AUDIO_BYTES + 1)
        except OSError as error:
            raise AudioFetchFailed(f"cannot reach ElevenLabs: {type(error).__name__}") from error
        finally:
            connection.close()
        if response.status == 404:
            # ElevenLabs' answer for a conversation without audio (or one it no longer keeps).
            raise NoAudio("ElevenLabs has no audio for this conversation")
        if response.status != 200:
            raise AudioFetchFailed(f"ElevenLabs answered {response.status} for the conversation audio")
        if len(body) > MAX_AUDIO_BYTES:
            raise AudioFetchFailed("the conversation audio exceeds the size this processor accepts")
        return body
