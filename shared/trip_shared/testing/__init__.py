"""Test support shared by every service: the component-test harness, fixtures, an OTLP receiver."""
