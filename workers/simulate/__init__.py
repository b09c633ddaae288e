"""`paycollect simulate`: replay a scenario file through the real system, day by day."""
