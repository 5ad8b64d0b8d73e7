"""ComponentResources of the stack: each owns its children and the alarms that watch them."""
