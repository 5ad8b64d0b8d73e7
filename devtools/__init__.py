"""Development tools: the Mem0 Platform emulator, in-memory fakes of the ports and the loader of the
recorded ElevenLabs fixtures. Never in the Lambda artifact (its build refuses any handler that reaches
this package); installed with the project so that tests, load tests and the local runtime's development
options (``serve --mem0-emulator``, ``send <fixture>``) can use them."""
