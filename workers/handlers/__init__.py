"""The shell: handlers load state through the unit of work, ask domain/ what to do, apply it."""
