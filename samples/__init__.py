"""Sample reports shipped with Jirei for `jirei demo` (written for Jirei; several layouts and formats)."""
