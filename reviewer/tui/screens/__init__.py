"""Screens: the review screen, its dialogs, and the help screen."""
