"""One package per source paper: its experiments and its ledger entries side by side.

A claim id's prefix names its module (``htw.penalty.*`` in :mod:`pcheck.papers.htw.penalty`,
``shenouda.*`` in :mod:`pcheck.papers.shenouda`); each paper's ``sources.py`` holds the
verbatim quotes, readings, origins and free choices of its entries. The modules register
through the ``pcheck.claims`` entry points (setup.cfg), like a third-party package's.
"""
