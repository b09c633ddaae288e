"""Tools to drive the whole system from outside: the pipeline benchmark and the fault test."""
