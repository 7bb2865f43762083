"""Every built-in ledger claim runs on the active profile and returns its expected verdict.

This is the test-suite twin of ``pcheck verify``: a claim whose verdict changes fails here.
Slow claims (above the per-claim budget of the nojit pass) are marked by the claim modules' own
tests; here each claim runs once on the active profile.
"""

import pytest

from pcheck.ledger import Context, run_claim, select

CLAIMS = select()


@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_has_its_expected_verdict(claim, pcheck_profile):
    outcome = run_claim(claim, Context(profile=pcheck_profile, seed=0))
    assert outcome.error is None, outcome.error
    assert outcome.as_expected, f"{claim.id}: {outcome.verdict} (expected {claim.expected}); {outcome.evidence}"
