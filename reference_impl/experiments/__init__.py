"""Paper experiments that go beyond one formulation: baselines, splits and runners whose
results feed the reproduced figures in :mod:`reference_impl.reports.paper`."""
