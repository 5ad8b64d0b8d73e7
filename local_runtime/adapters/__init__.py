"""The local runtime's own adapters, never in the Lambda artifact: the embedded Mem0 engine with its
offline ONNX embedder, the filesystem archive, and the SQS dead-letter queue the operator's
``replay`` command reads. The deployed adapters are in ``agentic_memory.adapters``."""
