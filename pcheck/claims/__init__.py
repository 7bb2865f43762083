"""The built-in claims ledger: one module per source paper (or per section of HTW), each
registering its claims with :func:`pcheck.ledger.claim`."""
