"""The maintainers' real-account acceptance suite: what only a real AWS account can settle.

`test_real_account.py` (marker ``aws``) runs only when a person opts in (see
`tests.aws.acceptance.gate`); everything else here runs offline in CI and tests the suite's
own logic: its parameter sets, its teardown, its AWS calls (botocore's Stubber), its report.
"""
