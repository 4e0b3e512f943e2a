"""Test support: factories and API helpers shared by every app's tests."""
