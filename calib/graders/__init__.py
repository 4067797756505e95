"""calib.graders"""
