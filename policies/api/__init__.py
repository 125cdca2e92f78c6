"""The policy API: the public 政策清单 and 政策计算器, and staff endpoints for the review workflow."""
