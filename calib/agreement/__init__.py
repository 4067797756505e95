"""calib.agreement"""
