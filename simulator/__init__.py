"""The stand-in world: simulated homes that publish like real terminals do."""
