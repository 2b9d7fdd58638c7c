"""The pipeline across stages: the micro-batch job and sensor, and the in-process full run."""
