"""Synthetic tasks as data (docs/tasks/): the neutral format, generators, converters, teacher-forced scoring."""
