"""Journey analytics: paths, funnels, friction, multi-touch attribution, incrementality, report."""
