"""Fall detection in the lab: SisFall-format readers, replay through the streaming detector
(``detector.falls.stream``), training the bundled model and cross-validating it
(``eldercare train falls``, ``eldercare eval falls``)."""
