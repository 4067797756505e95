"""calib.raters"""
