"""Development tools, never shipped: the Mem0 Platform emulator, in-memory fakes of the ports and the
recorded ElevenLabs fixtures. The Lambda artifact's build refuses any handler that reaches this package."""
