"""The policy catalogue derived from the district's 14th five-year plan (policies.json) and its helpers."""
