"""Paycollect's billing and collection rules: pure Python, standard library only."""
