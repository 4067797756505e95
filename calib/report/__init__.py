"""calib.report"""
