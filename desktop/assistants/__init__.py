"""Built-in assistants (issue 24): models that run offline in LabelDesk's own worker process and
answer as a Label Studio ML backend would. One module per assistant, each with NAME, TITLE,
VERSION, LIGHT, NEEDS, fits(label_config), load() and predict(model, tasks, fit, context).

May import: desktop.labelconfig. Heavy packages (Tesseract's binary, spaCy, OpenCV) are reached
inside load() and predict() only, so every module imports on a machine without them.
"""

REGISTRY = ("ocr", "entities", "teach", "mask", "duplicates")
