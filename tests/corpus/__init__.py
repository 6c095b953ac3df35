"""The foreign-data corpus: every stage of dvc.yaml on data sets that are not the Drugs.com demo.

- :mod:`corpus.datasets` builds each data set (seeded) and the config overrides a user would give;
- :mod:`corpus.harness` runs the stages in scratch copies and checks what they leave;
- ``test_corpus.py`` turns each check on each data set into a test.
"""
