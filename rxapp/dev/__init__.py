"""Development only: the demo practice (`demo_data`), loaded by `python -m rxapp.manage demo-data`
(`make run`, the tests). Never imported by the app itself, and never loaded in production."""
