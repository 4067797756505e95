"""calib.rubric"""
