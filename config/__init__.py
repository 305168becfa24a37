"""Shipped defaults, installed as the package ``interviewminds_config`` (see core.config_files)."""
