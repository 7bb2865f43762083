"""Every ledger entry of a paper module says where its statement is and what it is (issue 13).

For each registered claim whose check lives under ``pcheck.papers``: ``origin`` is one of
:data:`pcheck.ledger.ORIGINS`, ``reading`` and ``source`` are non-empty, the source names a paper
and never our design notes, and an entry of origin "paper" or "reading" carries a quote found
verbatim in one of the seed texts (``../shared/seeds`` next to the repository), up to
whitespace, hyphenation across line breaks and unicode variants of quotes, dashes and
ligatures. A quote may join verbatim fragments with " [...] "; each fragment must be found.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from pcheck.ledger import ORIGINS, load_claims

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

#: What joins two verbatim fragments of one quote.
ELLIPSIS = "[...]"

#: Words that name our own notes, never a source.
FORBIDDEN = ("MATH.md", "DESIGN.md", "issue")

#: Unicode variants unified before comparing (NFKC then handles ligatures such as "ﬁ").
UNIFY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                       "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
                       "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                       "\u2015": "-", "\u2212": "-", "\u00ad": "", "\u00a0": " "})


def normalize(text: str, *, keep_hyphen: bool = False) -> str:
    """Unicode variants unified, a word hyphenated across a line break joined ("regu-\\nlarization"
    -> "regularization"; with ``keep_hyphen`` -> "regu-larization", for a real hyphen that fell at
    a line end), whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(UNIFY)
    text = re.sub(r"(\w)-[ \t]*\n\s*(\w)", r"\1-\2" if keep_hyphen else r"\1\2", text)
    return " ".join(text.split())


def paper_claims():
    return sorted((c for c in load_claims().values() if c.check.__module__.startswith("pcheck.papers.")),
                  key=lambda c: c.id)


CLAIMS = {c.id: c for c in paper_claims()}


@pytest.fixture(scope="module")
def seed_texts() -> list[str]:
    """Each seed text in both normalizations (hyphen at a line break dropped or kept)."""
    if not SEEDS.is_dir():
        pytest.skip(f"the seed texts are not at {SEEDS} (the repository is expected next to shared/)")
    raw = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    if not raw:
        pytest.skip(f"no seed texts (*.txt) in {SEEDS}")
    return [normalize(t, keep_hyphen=k) for t in raw for k in (False, True)]


def test_there_are_paper_claims():
    assert CLAIMS, "no ledger entry under pcheck.papers was registered"


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_entry_says_where_and_what(claim_id):
    c = CLAIMS[claim_id]
    assert c.origin in ORIGINS, f"{claim_id}: origin {c.origin!r} not in {ORIGINS}"
    assert c.reading.strip(), f"{claim_id}: no reading (the formal statement the check tests)"
    assert c.source.strip(), f"{claim_id}: no source"
    for field in ("source", "statement", "quote"):
        text = getattr(c, field) or ""
        for word in FORBIDDEN:
            assert word.lower() not in text.lower(), f"{claim_id}: {field} mentions {word!r}: {text!r}"
    for name, value in c.free_choices.items():
        assert isinstance(name, str) and name.strip(), f"{claim_id}: a free choice without a name"
        assert value, f"{claim_id}: free choice {name!r} without the values tried"
    unknown = [i for i in c.derived_from if i not in load_claims()]
    assert not unknown, f"{claim_id}: derived from unregistered entries {unknown}"
    assert claim_id not in c.derived_from, f"{claim_id} is derived from itself"


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_quote_is_in_a_seed_text(claim_id, seed_texts):
    c = CLAIMS[claim_id]
    if c.origin not in ("paper", "reading"):
        if not c.quote:
            return
    else:
        assert c.quote.strip(), f"{claim_id}: origin {c.origin!r} needs the source's own words (quote)"
    fragments = [normalize(f) for f in c.quote.split(ELLIPSIS)]
    assert all(fragments), f"{claim_id}: empty fragment around {ELLIPSIS!r} in {c.quote!r}"
    for fragment in fragments:
        assert any(fragment in text for text in seed_texts), (
            f"{claim_id}: quote not found verbatim in {SEEDS} (after normalizing whitespace, hyphenation and "
            f"unicode variants): {fragment!r}")


def test_normalize_joins_hyphenation_and_unifies_variants():
    assert normalize("regu-\nlarization  of   the \u201cbiases\u201d \ufb01ts") == 'regularization of the "biases" fits'
    assert normalize("positive semi-\n definite", keep_hyphen=True) == "positive semi-definite"
    assert normalize("a \u2013 b\n\nc") == "a - b c"
