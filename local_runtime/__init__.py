"""The local runtime and the operator CLI (``agentic-memory``): the product's handlers served on this
machine, and operator commands against local data or a stack. Never in the Lambda artifact."""
