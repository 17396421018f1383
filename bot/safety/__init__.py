"""Safety logic shared by Rasa (crisis net) and the action server (risk).

Kept small, explicit and free of Rasa imports so that it is easy to test.
"""
