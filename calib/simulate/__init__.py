"""calib.simulate"""
