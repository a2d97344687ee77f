"""Label schemes as data (JSON), shipped as package data; loaded by `jirei.classify.taxonomy`."""
