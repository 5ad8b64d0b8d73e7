"""The recall benchmark (``make bench-recall``): how well the ``search_memory`` tool finds what callers
said, against plain BM25 over the raw turns at the same number of characters, in one run."""
