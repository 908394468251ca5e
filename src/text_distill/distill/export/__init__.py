"""Export: a trained student as ONNX (float and int8, parity checked) and the rows the served
model answers.

May import: data, models.
"""
