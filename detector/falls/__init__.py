"""Fall detection from wearable accelerometer data (issue 7)."""
