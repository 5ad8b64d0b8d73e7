from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A payload from ElevenLabs: extra fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
