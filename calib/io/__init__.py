"""calib.io"""
