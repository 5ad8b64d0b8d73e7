"""The Pulumi program of Agentic Memory: typed stack settings, components, and the Lambda artifact build.

``infra/__main__.py`` is the entry point Pulumi runs; ``infra.program.main`` composes a stack; the
components live in ``infra.components``. ``python -m infra.packaging`` builds the Lambda zip and
``python -m infra.synth <stack>`` prints a stack's resource graph as the offline tests see it.
"""
