"""Plain-Python view-models: what step, what to show, what to send. No Kivy."""
