"""A plugin made only for tests: proves the third-party path (entry point + ini line)."""
from setuptools import setup

setup(
    name="interviewminds-sample-plugin",
    version="1.2.3",
    packages=["im_sample_plugin"],
    install_requires=["interviewminds"],
    entry_points={"interviewminds.plugins": ["sample = im_sample_plugin"]},
)
