"""calib.cli"""
