"""Pydantic models of every ElevenLabs payload we receive or answer.

Unknown fields are tolerated everywhere: ElevenLabs adds fields often, and a new field must never
turn a call into an error. What the product depends on is validated.
"""
